"""Generated forward kernel (do not edit): see titans_kernels/backends/triton_backend/codegen.py."""
import triton
import triton.language as tl
from titans_kernels.backends.triton_backend.device import (coeff_vectors, col_dot, colsum_prod, copy_block, copy_row, dot_sum, ew_act, ew_grad_act, frob_norm, ew_load, ew_loss_grad, ew_store_out, fill, gate_grads, grad2_acc, kappa_rows, lin2, loss_back, mm, mul_acc, outer_acc, row_add_at, row_dot, rowdot_acc, rowscale, scale_cols, segment_exp, store_rows, tri_rowcol, vec_add_at, vec_axpy)


@triton.jit
def titans_fwd_2f689d34c8b059e9(q_ptr, k_ptr, v_ptr, theta_ptr, eta_ptr, alpha_ptr, out_ptr, scr_ptr, ckpt_ptr,
        T, n_chunks, first_group, group, n_groups, delta,
        D: tl.constexpr, BC: tl.constexpr, SN: tl.constexpr, SCR: tl.constexpr,
        OFF_ST: tl.constexpr, OFF_QS: tl.constexpr, OFF_KS: tl.constexpr, OFF_VS: tl.constexpr, OFF_C: tl.constexpr, OFF_F: tl.constexpr, OFF_LB: tl.constexpr, OFF_LP: tl.constexpr, OFF_THETA: tl.constexpr, OFF_ACUM: tl.constexpr, OFF_NCUM: tl.constexpr, OFF_PV: tl.constexpr, OFF_PE: tl.constexpr, OFF_A: tl.constexpr, OFF_M: tl.constexpr, OFF_CV: tl.constexpr, OFF_W: tl.constexpr, OFF_Z0: tl.constexpr, OFF_G0: tl.constexpr, OFF_ZQ0: tl.constexpr, OFF_QKR0: tl.constexpr, OFF_QK0: tl.constexpr, OFF_X1: tl.constexpr, OFF_XQ1: tl.constexpr, OFF_GW1: tl.constexpr, OFF_Z1: tl.constexpr, OFF_G1: tl.constexpr, OFF_ZQ1: tl.constexpr, OFF_QKR1: tl.constexpr, OFF_QK1: tl.constexpr, SO_W0: tl.constexpr, SO_S0: tl.constexpr, SO_W1: tl.constexpr, SO_S1: tl.constexpr,
        SAVE_CKPT: tl.constexpr, TILE: tl.constexpr, PREC: tl.constexpr):
    pid = tl.program_id(0).to(tl.int64)
    q_row = q_ptr + pid * T * D
    k_row = k_ptr + pid * T * D
    v_row = v_ptr + pid * T * D
    o_row = out_ptr + pid * T * D
    g_off = pid * T
    scr = scr_ptr + pid * SCR
    for c in range(0, n_chunks):
        t0 = c * BC
        rows = tl.minimum(T - t0, BC)
        cur = scr + OFF_ST + (c % 2) * SN
        nxt = scr + OFF_ST + ((c + 1) % 2) * SN
        if SAVE_CKPT:
            is_start = (c == 0) | ((c >= first_group) & ((c - first_group) % group == 0))
            if is_start:
                g_idx = tl.where(c == 0, 0, (c - first_group) // group + 1)
                copy_block(cur, ckpt_ptr + (pid * n_groups + g_idx) * SN, SN, 256)
        ew_load(q_row + t0 * D, scr + OFF_QS, rows, BC, D, TILE)
        ew_load(k_row + t0 * D, scr + OFF_KS, rows, BC, D, TILE)
        ew_load(v_row + t0 * D, scr + OFF_VS, rows, BC, D, TILE)
        coeff_vectors(theta_ptr + g_off + t0, eta_ptr + g_off + t0, alpha_ptr + g_off + t0, rows, scr + OFF_THETA,
                      scr + OFF_ACUM, scr + OFF_NCUM, scr + OFF_A, scr + OFF_PV, scr + OFF_PE, scr + OFF_W,
                      BC, True, True)
        tl.debug_barrier()
        segment_exp(scr + OFF_ACUM, scr + OFF_LB, BC, TILE, False)
        segment_exp(scr + OFF_NCUM, scr + OFF_LP, BC, TILE, False)
        tl.debug_barrier()
        mm(a_ptr=scr + OFF_LB, s_am=BC, s_ak=1, b_ptr=scr + OFF_LP, s_bk=BC, s_bn=1,
           c_ptr=scr + OFF_F, s_cm=BC, s_cn=1, M=BC, N=BC, K=BC, MODE=0,
           ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
           ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
           e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
           e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
           rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
        tl.debug_barrier()
        row_dot(scr + OFF_LB, scr + OFF_PV, scr + OFF_M, BC, BC, TILE)
        scale_cols(scr + OFF_F, scr + OFF_THETA, scr + OFF_C, BC, BC, TILE)
        tl.debug_barrier()
        copy_row(scr + OFF_C, rows - 1, scr + OFF_CV, BC, TILE)
        a_e = tl.load(scr + OFF_A + rows - 1)
        m_e = tl.load(scr + OFF_M + rows - 1)
        p_e = tl.load(scr + OFF_PV + rows - 1)
        tl.debug_barrier()
        mm(a_ptr=scr + OFF_KS, s_am=1 * D, s_ak=1, b_ptr=cur + SO_W0, s_bk=1, s_bn=1 * D,
           c_ptr=scr + OFF_Z0, s_cm=4 * D, s_cn=1, M=BC, N=4 * D, K=1 * D, MODE=0,
           ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
           ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
           e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
           e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
           rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
        tl.debug_barrier()
        ew_act(scr + OFF_Z0, scr + OFF_X1, BC, 4 * D, 0, TILE, TILE)
        tl.debug_barrier()
        mm(a_ptr=scr + OFF_X1, s_am=4 * D, s_ak=1, b_ptr=cur + SO_W1, s_bk=1, s_bn=4 * D,
           c_ptr=scr + OFF_Z1, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=4 * D, MODE=0,
           ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
           ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
           e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
           e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
           rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
        tl.debug_barrier()
        ew_loss_grad(scr + OFF_Z1, scr + OFF_KS, scr + OFF_VS, D, scr + OFF_G1, scr, rows, delta,
                     BC, 1 * D, False, 0, False, TILE, TILE)
        tl.debug_barrier()
        mm(a_ptr=scr + OFF_G1, s_am=1 * D, s_ak=1, b_ptr=cur + SO_W1, s_bk=4 * D, s_bn=1,
           c_ptr=scr + OFF_GW1, s_cm=4 * D, s_cn=1, M=BC, N=4 * D, K=1 * D, MODE=0,
           ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
           ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
           e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
           e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
           rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
        tl.debug_barrier()
        ew_grad_act(scr + OFF_GW1, scr + OFF_Z0, scr + OFF_G0, BC, 4 * D, 0, TILE, TILE)
        tl.debug_barrier()
        mm(a_ptr=scr + OFF_QS, s_am=1 * D, s_ak=1, b_ptr=scr + OFF_KS, s_bk=1, s_bn=1 * D,
           c_ptr=scr + OFF_QKR0, s_cm=BC, s_cn=1, M=BC, N=BC, K=1 * D, MODE=0,
           ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
           ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
           e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
           e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
           rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
        tl.debug_barrier()
        mul_acc(scr + OFF_QK0, scr + OFF_QKR0, scr + OFF_C, 1.0, BC, BC, False, False, TILE)
        tl.debug_barrier()
        mm(a_ptr=scr + OFF_QS, s_am=1 * D, s_ak=1, b_ptr=cur + SO_W0, s_bk=1, s_bn=1 * D,
           c_ptr=scr + OFF_ZQ0, s_cm=4 * D, s_cn=1, M=BC, N=4 * D, K=1 * D, MODE=0,
           ms_ptr=scr + OFF_A, HAS_MS=True, ks_ptr=scr, HAS_KS=False,
           ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
           e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
           e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
           rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
        tl.debug_barrier()
        mm(a_ptr=scr + OFF_QS, s_am=1 * D, s_ak=1, b_ptr=cur + SO_S0, s_bk=1, s_bn=1 * D,
           c_ptr=scr + OFF_ZQ0, s_cm=4 * D, s_cn=1, M=BC, N=4 * D, K=1 * D, MODE=1,
           ms_ptr=scr + OFF_M, HAS_MS=True, ks_ptr=scr, HAS_KS=False,
           ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
           e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
           e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
           rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
        tl.debug_barrier()
        mm(a_ptr=scr + OFF_QK0, s_am=BC, s_ak=1, b_ptr=scr + OFF_G0, s_bk=4 * D, s_bn=1,
           c_ptr=scr + OFF_ZQ0, s_cm=4 * D, s_cn=1, M=BC, N=4 * D, K=BC, MODE=2,
           ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
           ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
           e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
           e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
           rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
        tl.debug_barrier()
        ew_act(scr + OFF_ZQ0, scr + OFF_XQ1, BC, 4 * D, 0, TILE, TILE)
        tl.debug_barrier()
        mm(a_ptr=scr + OFF_XQ1, s_am=4 * D, s_ak=1, b_ptr=scr + OFF_X1, s_bk=1, s_bn=4 * D,
           c_ptr=scr + OFF_QKR1, s_cm=BC, s_cn=1, M=BC, N=BC, K=4 * D, MODE=0,
           ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
           ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
           e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
           e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
           rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
        tl.debug_barrier()
        mul_acc(scr + OFF_QK1, scr + OFF_QKR1, scr + OFF_C, 1.0, BC, BC, False, False, TILE)
        tl.debug_barrier()
        mm(a_ptr=scr + OFF_XQ1, s_am=4 * D, s_ak=1, b_ptr=cur + SO_W1, s_bk=1, s_bn=4 * D,
           c_ptr=scr + OFF_ZQ1, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=4 * D, MODE=0,
           ms_ptr=scr + OFF_A, HAS_MS=True, ks_ptr=scr, HAS_KS=False,
           ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
           e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
           e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
           rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
        tl.debug_barrier()
        mm(a_ptr=scr + OFF_XQ1, s_am=4 * D, s_ak=1, b_ptr=cur + SO_S1, s_bk=1, s_bn=4 * D,
           c_ptr=scr + OFF_ZQ1, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=4 * D, MODE=1,
           ms_ptr=scr + OFF_M, HAS_MS=True, ks_ptr=scr, HAS_KS=False,
           ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
           e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
           e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
           rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
        tl.debug_barrier()
        mm(a_ptr=scr + OFF_QK1, s_am=BC, s_ak=1, b_ptr=scr + OFF_G1, s_bk=1 * D, s_bn=1,
           c_ptr=scr + OFF_ZQ1, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=BC, MODE=2,
           ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
           ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
           e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
           e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
           rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
        tl.debug_barrier()
        ew_store_out(scr + OFF_ZQ1, scr + OFF_QS, o_row + t0 * D, rows, BC, D, False, TILE)
        tl.debug_barrier()
        mm(a_ptr=scr + OFF_G0, s_am=1, s_ak=4 * D, b_ptr=scr + OFF_KS, s_bk=1 * D, s_bn=1,
           c_ptr=nxt + SO_W0, s_cm=1 * D, s_cn=1, M=4 * D, N=1 * D, K=BC, MODE=3,
           ms_ptr=scr, HAS_MS=False, ks_ptr=scr + OFF_CV, HAS_KS=True,
           ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
           e0_ptr=cur + SO_W0, s_e0m=1 * D, s_e0n=1, e0_scale=a_e, HAS_E0=True,
           e1_ptr=cur + SO_S0, s_e1m=1 * D, s_e1n=1, e1_scale=m_e, HAS_E1=True,
           rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
        tl.debug_barrier()
        mm(a_ptr=scr + OFF_G0, s_am=1, s_ak=4 * D, b_ptr=scr + OFF_KS, s_bk=1 * D, s_bn=1,
           c_ptr=nxt + SO_S0, s_cm=1 * D, s_cn=1, M=4 * D, N=1 * D, K=BC, MODE=3,
           ms_ptr=scr, HAS_MS=False, ks_ptr=scr + OFF_W, HAS_KS=True,
           ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
           e0_ptr=cur + SO_S0, s_e0m=1 * D, s_e0n=1, e0_scale=p_e, HAS_E0=True,
           e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
           rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
        tl.debug_barrier()
        mm(a_ptr=scr + OFF_G1, s_am=1, s_ak=1 * D, b_ptr=scr + OFF_X1, s_bk=4 * D, s_bn=1,
           c_ptr=nxt + SO_W1, s_cm=4 * D, s_cn=1, M=1 * D, N=4 * D, K=BC, MODE=3,
           ms_ptr=scr, HAS_MS=False, ks_ptr=scr + OFF_CV, HAS_KS=True,
           ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
           e0_ptr=cur + SO_W1, s_e0m=4 * D, s_e0n=1, e0_scale=a_e, HAS_E0=True,
           e1_ptr=cur + SO_S1, s_e1m=4 * D, s_e1n=1, e1_scale=m_e, HAS_E1=True,
           rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
        tl.debug_barrier()
        mm(a_ptr=scr + OFF_G1, s_am=1, s_ak=1 * D, b_ptr=scr + OFF_X1, s_bk=4 * D, s_bn=1,
           c_ptr=nxt + SO_S1, s_cm=4 * D, s_cn=1, M=1 * D, N=4 * D, K=BC, MODE=3,
           ms_ptr=scr, HAS_MS=False, ks_ptr=scr + OFF_W, HAS_KS=True,
           ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
           e0_ptr=cur + SO_S1, s_e0m=4 * D, s_e0n=1, e0_scale=p_e, HAS_E0=True,
           e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
           rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
        tl.debug_barrier()
