"""Generated backward kernel (do not edit): see titans_kernels/backends/triton_backend/codegen.py."""
import triton
import triton.language as tl
from titans_kernels.backends.triton_backend.device import (coeff_vectors, col_dot, colsum_prod, copy_block, copy_row, dot_sum, ew_act, ew_grad_act, frob_norm, ew_load, ew_loss_grad, ew_store_out, fill, gate_grads, grad2_acc, kappa_rows, lin2, loss_back, mm, mul_acc, outer_acc, row_add_at, row_dot, rowdot_acc, rowscale, scale_cols, segment_exp, store_rows, tri_rowcol, vec_add_at, vec_axpy)


@triton.jit
def titans_bwd_a490a659cb11fddb(q_ptr, k_ptr, v_ptr, theta_ptr, eta_ptr, alpha_ptr, do_ptr, dq_ptr, dk_ptr, dv_ptr, dtheta_ptr, deta_ptr,
        dalpha_ptr, ckpt_ptr, gs_ptr, scr_ptr,
        T, n_chunks, first_group, group, n_groups, delta,
        D: tl.constexpr, BC: tl.constexpr, SN: tl.constexpr, SCR: tl.constexpr,
        OFF_ST: tl.constexpr, OFF_QS: tl.constexpr, OFF_KS: tl.constexpr, OFF_VS: tl.constexpr, OFF_C: tl.constexpr, OFF_F: tl.constexpr, OFF_LB: tl.constexpr, OFF_LP: tl.constexpr, OFF_THETA: tl.constexpr, OFF_ACUM: tl.constexpr, OFF_NCUM: tl.constexpr, OFF_PV: tl.constexpr, OFF_PE: tl.constexpr, OFF_A: tl.constexpr, OFF_M: tl.constexpr, OFF_CV: tl.constexpr, OFF_W: tl.constexpr, OFF_Z0: tl.constexpr, OFF_G0: tl.constexpr, OFF_ZQ0: tl.constexpr, OFF_QKR0: tl.constexpr, OFF_QK0: tl.constexpr, OFF_DST: tl.constexpr, OFF_DO: tl.constexpr, OFF_DZQ: tl.constexpr, OFF_DXQ: tl.constexpr, OFF_T1: tl.constexpr, OFF_DP: tl.constexpr, OFF_DMIX: tl.constexpr, OFF_DQK: tl.constexpr, OFF_DC: tl.constexpr, OFF_DF: tl.constexpr, OFF_DLB: tl.constexpr, OFF_DLP: tl.constexpr, OFF_DA: tl.constexpr, OFF_DM: tl.constexpr, OFF_DCV: tl.constexpr, OFF_DWV: tl.constexpr, OFF_DTHETA: tl.constexpr, OFF_DAV: tl.constexpr, OFF_DNV: tl.constexpr, OFF_TV: tl.constexpr, OFF_NDG0: tl.constexpr, OFF_NDX0: tl.constexpr, OFF_DZ0: tl.constexpr, SO_W0: tl.constexpr, SO_S0: tl.constexpr,
        SAVE_CKPT: tl.constexpr, TILE: tl.constexpr, PREC: tl.constexpr):
    pid = tl.program_id(0).to(tl.int64)
    q_row = q_ptr + pid * T * D
    k_row = k_ptr + pid * T * D
    v_row = v_ptr + pid * T * D
    dq_row = dq_ptr + pid * T * D
    dk_row = dk_ptr + pid * T * D
    dv_row = dv_ptr + pid * T * D
    do_row = do_ptr + pid * T * D
    g_off = pid * T
    scr = scr_ptr + pid * SCR
    gsp = gs_ptr + pid * group * SN
    for gg in range(0, n_groups):
        g = n_groups - 1 - gg
        lo = tl.where(g == 0, 0, first_group + (g - 1) * group)
        hi = tl.where(g == 0, first_group, lo + group)
        copy_block(ckpt_ptr + (pid * n_groups + g) * SN, gsp, SN, 256)
        tl.debug_barrier()
        for c in range(lo, hi - 1):  # chunk-start states of the group
            t0 = c * BC
            rows = tl.minimum(T - t0, BC)
            st = gsp + (c - lo) * SN
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
            mm(a_ptr=scr + OFF_KS, s_am=1 * D, s_ak=1, b_ptr=st + SO_W0, s_bk=1, s_bn=1 * D,
               c_ptr=scr + OFF_Z0, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=1 * D, MODE=0,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            ew_loss_grad(scr + OFF_Z0, scr + OFF_KS, scr + OFF_VS, D, scr + OFF_G0, scr, rows, delta,
                         BC, 1 * D, False, 0, False, TILE, TILE)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_G0, s_am=1, s_ak=1 * D, b_ptr=scr + OFF_KS, s_bk=1 * D, s_bn=1,
               c_ptr=st + SN + SO_W0, s_cm=1 * D, s_cn=1, M=1 * D, N=1 * D, K=BC, MODE=3,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr + OFF_CV, HAS_KS=True,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=st + SO_W0, s_e0m=1 * D, s_e0n=1, e0_scale=a_e, HAS_E0=True,
               e1_ptr=st + SO_S0, s_e1m=1 * D, s_e1n=1, e1_scale=m_e, HAS_E1=True,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_G0, s_am=1, s_ak=1 * D, b_ptr=scr + OFF_KS, s_bk=1 * D, s_bn=1,
               c_ptr=st + SN + SO_S0, s_cm=1 * D, s_cn=1, M=1 * D, N=1 * D, K=BC, MODE=3,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr + OFF_W, HAS_KS=True,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=st + SO_S0, s_e0m=1 * D, s_e0n=1, e0_scale=p_e, HAS_E0=True,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
        for jj in range(0, hi - lo):  # chunks in reverse
            c = hi - 1 - jj
            t0 = c * BC
            rows = tl.minimum(T - t0, BC)
            st = gsp + (c - lo) * SN
            p = n_chunks - 1 - c
            dn = scr + OFF_DST + (p % 2) * SN
            dc = scr + OFF_DST + ((p + 1) % 2) * SN
            ew_load(q_row + t0 * D, scr + OFF_QS, rows, BC, D, TILE)
            ew_load(k_row + t0 * D, scr + OFF_KS, rows, BC, D, TILE)
            ew_load(v_row + t0 * D, scr + OFF_VS, rows, BC, D, TILE)
            ew_load(do_row + t0 * D, scr + OFF_DO, rows, BC, D, TILE)
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
            mm(a_ptr=scr + OFF_KS, s_am=1 * D, s_ak=1, b_ptr=st + SO_W0, s_bk=1, s_bn=1 * D,
               c_ptr=scr + OFF_Z0, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=1 * D, MODE=0,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            ew_loss_grad(scr + OFF_Z0, scr + OFF_KS, scr + OFF_VS, D, scr + OFF_G0, scr, rows, delta,
                         BC, 1 * D, False, 0, False, TILE, TILE)
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
            mm(a_ptr=scr + OFF_QS, s_am=1 * D, s_ak=1, b_ptr=st + SO_W0, s_bk=1, s_bn=1 * D,
               c_ptr=scr + OFF_ZQ0, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=1 * D, MODE=0,
               ms_ptr=scr + OFF_A, HAS_MS=True, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_QS, s_am=1 * D, s_ak=1, b_ptr=st + SO_S0, s_bk=1, s_bn=1 * D,
               c_ptr=scr + OFF_ZQ0, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=1 * D, MODE=1,
               ms_ptr=scr + OFF_M, HAS_MS=True, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_QK0, s_am=BC, s_ak=1, b_ptr=scr + OFF_G0, s_bk=1 * D, s_bn=1,
               c_ptr=scr + OFF_ZQ0, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=BC, MODE=2,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            fill(scr + OFF_DA, 0.0, BC, BC)
            fill(scr + OFF_DM, 0.0, BC, BC)
            fill(scr + OFF_DCV, 0.0, BC, BC)
            fill(scr + OFF_DWV, 0.0, BC, BC)
            fill(scr + OFF_DC, 0.0, BC * BC, BC)
            tl.debug_barrier()
            da_e = 0.0
            dm_e = 0.0
            dp_e = 0.0
            da_e += dot_sum(dn + SO_W0, st + SO_W0, 1 * D * 1 * D, 256)
            dm_e += dot_sum(dn + SO_W0, st + SO_S0, 1 * D * 1 * D, 256)
            dp_e += dot_sum(dn + SO_S0, st + SO_S0, 1 * D * 1 * D, 256)
            mm(a_ptr=scr + OFF_KS, s_am=1 * D, s_ak=1, b_ptr=dn + SO_W0, s_bk=1, s_bn=1 * D,
               c_ptr=scr + OFF_T1, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=1 * D, MODE=0,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            rowdot_acc(scr + OFF_G0, scr + OFF_T1, scr + OFF_DCV, -1.0, BC, 1 * D, TILE)
            rowscale(scr + OFF_T1, scr + OFF_CV, scr + OFF_NDG0, BC, 1 * D, False, TILE)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_G0, s_am=1 * D, s_ak=1, b_ptr=dn + SO_W0, s_bk=1 * D, s_bn=1,
               c_ptr=scr + OFF_NDX0, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=1 * D, MODE=0,
               ms_ptr=scr + OFF_CV, HAS_MS=True, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_KS, s_am=1 * D, s_ak=1, b_ptr=dn + SO_S0, s_bk=1, s_bn=1 * D,
               c_ptr=scr + OFF_T1, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=1 * D, MODE=0,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            rowdot_acc(scr + OFF_G0, scr + OFF_T1, scr + OFF_DWV, -1.0, BC, 1 * D, TILE)
            rowscale(scr + OFF_T1, scr + OFF_W, scr + OFF_NDG0, BC, 1 * D, True, TILE)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_G0, s_am=1 * D, s_ak=1, b_ptr=dn + SO_S0, s_bk=1 * D, s_bn=1,
               c_ptr=scr + OFF_NDX0, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=1 * D, MODE=1,
               ms_ptr=scr + OFF_W, HAS_MS=True, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            lin2(dc + SO_W0, dn + SO_W0, a_e, dn + SO_W0, 0.0, 1 * D * 1 * D, False, 256)
            lin2(dc + SO_S0, dn + SO_W0, m_e, dn + SO_S0, p_e, 1 * D * 1 * D, True, 256)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_DO, s_am=1 * D, s_ak=1, b_ptr=st + SO_W0, s_bk=1 * D, s_bn=1,
               c_ptr=scr + OFF_DXQ, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=1 * D, MODE=0,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            rowdot_acc(scr + OFF_DXQ, scr + OFF_QS, scr + OFF_DA, 1.0, BC, 1 * D, TILE)
            tl.debug_barrier()
            rowscale(scr + OFF_DXQ, scr + OFF_A, scr + OFF_DXQ, BC, 1 * D, False, TILE)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_DO, s_am=1 * D, s_ak=1, b_ptr=st + SO_S0, s_bk=1 * D, s_bn=1,
               c_ptr=scr + OFF_T1, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=1 * D, MODE=0,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            rowdot_acc(scr + OFF_T1, scr + OFF_QS, scr + OFF_DM, 1.0, BC, 1 * D, TILE)
            rowscale(scr + OFF_T1, scr + OFF_M, scr + OFF_DXQ, BC, 1 * D, True, TILE)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_DO, s_am=1, s_ak=1 * D, b_ptr=scr + OFF_QS, s_bk=1 * D, s_bn=1,
               c_ptr=dc + SO_W0, s_cm=1 * D, s_cn=1, M=1 * D, N=1 * D, K=BC, MODE=1,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr + OFF_A, HAS_KS=True,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_DO, s_am=1, s_ak=1 * D, b_ptr=scr + OFF_QS, s_bk=1 * D, s_bn=1,
               c_ptr=dc + SO_S0, s_cm=1 * D, s_cn=1, M=1 * D, N=1 * D, K=BC, MODE=1,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr + OFF_M, HAS_KS=True,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_DO, s_am=1 * D, s_ak=1, b_ptr=scr + OFF_G0, s_bk=1, s_bn=1 * D,
               c_ptr=scr + OFF_DMIX, s_cm=BC, s_cn=1, M=BC, N=BC, K=1 * D, MODE=0,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_QK0, s_am=1, s_ak=BC, b_ptr=scr + OFF_DO, s_bk=1 * D, s_bn=1,
               c_ptr=scr + OFF_NDG0, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=BC, MODE=1,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            mul_acc(scr + OFF_DC, scr + OFF_DMIX, scr + OFF_QKR0, -1.0, BC, BC, True, False, TILE)
            mul_acc(scr + OFF_DQK, scr + OFF_DMIX, scr + OFF_C, 1.0, BC, BC, False, False, TILE)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_DQK, s_am=BC, s_ak=1, b_ptr=scr + OFF_KS, s_bk=1 * D, s_bn=1,
               c_ptr=scr + OFF_DXQ, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=BC, MODE=2,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_DQK, s_am=1, s_ak=BC, b_ptr=scr + OFF_QS, s_bk=1 * D, s_bn=1,
               c_ptr=scr + OFF_NDX0, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=BC, MODE=1,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            store_rows(scr + OFF_DXQ, 1.0, scr + OFF_DO, 1.0, dq_row + t0 * D, rows, BC, D, False, TILE)
            tl.debug_barrier()
            lin2(scr + OFF_NDG0, scr + OFF_NDG0, -1.0, scr, 0.0, BC * 1 * D, False, 256)
            lin2(scr + OFF_NDX0, scr + OFF_NDX0, -1.0, scr, 0.0, BC * 1 * D, False, 256)
            tl.debug_barrier()
            loss_back(scr + OFF_NDG0, scr + OFF_Z0, scr + OFF_KS, scr + OFF_VS, scr + OFF_DZ0, scr, delta, BC, 1 * D, False, 0, False, TILE)
            tl.debug_barrier()
            store_rows(scr + OFF_DZ0, -1.0, scr, 0.0, dv_row + t0 * D, rows, BC, D, False, TILE)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_DZ0, s_am=1, s_ak=1 * D, b_ptr=scr + OFF_KS, s_bk=1 * D, s_bn=1,
               c_ptr=dc + SO_W0, s_cm=1 * D, s_cn=1, M=1 * D, N=1 * D, K=BC, MODE=1,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_DZ0, s_am=1 * D, s_ak=1, b_ptr=st + SO_W0, s_bk=1 * D, s_bn=1,
               c_ptr=scr + OFF_NDX0, s_cm=1 * D, s_cn=1, M=BC, N=1 * D, K=1 * D, MODE=1,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            store_rows(scr + OFF_NDX0, 1.0, scr + OFF_DZ0, 1.0, dk_row + t0 * D, rows, BC, D, False, TILE)
            tl.debug_barrier()
            row_add_at(scr + OFF_DC, rows - 1, scr + OFF_DCV, BC)
            vec_add_at(scr + OFF_DA, rows - 1, da_e, BC)
            vec_add_at(scr + OFF_DM, rows - 1, dm_e, BC)
            tl.debug_barrier()
            colsum_prod(scr + OFF_DC, scr + OFF_F, scr + OFF_DTHETA, BC, TILE)
            scale_cols(scr + OFF_DC, scr + OFF_THETA, scr + OFF_DF, BC, BC, TILE, True)
            tl.debug_barrier()
            vec_axpy(scr + OFF_DTHETA, scr + OFF_DWV, 1.0, scr + OFF_PE, BC, True, True)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_DF, s_am=BC, s_ak=1, b_ptr=scr + OFF_LP, s_bk=1, s_bn=BC,
               c_ptr=scr + OFF_DLB, s_cm=BC, s_cn=1, M=BC, N=BC, K=BC, MODE=0,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            outer_acc(scr + OFF_DLB, scr + OFF_DM, scr + OFF_PV, BC, TILE)
            tl.debug_barrier()
            tri_rowcol(scr + OFF_DLB, scr + OFF_LB, scr + OFF_DAV, BC, False, TILE)
            tl.debug_barrier()
            vec_axpy(scr + OFF_DAV, scr + OFF_DA, 1.0, scr + OFF_A, BC, True, True)
            tl.debug_barrier()
            mm(a_ptr=scr + OFF_LB, s_am=1, s_ak=BC, b_ptr=scr + OFF_DF, s_bk=BC, s_bn=1,
               c_ptr=scr + OFF_DLP, s_cm=BC, s_cn=1, M=BC, N=BC, K=BC, MODE=0,
               ms_ptr=scr, HAS_MS=False, ks_ptr=scr, HAS_KS=False,
               ns_ptr=scr, HAS_NS=False, mul_ptr=scr, s_mulm=0, s_muln=0, HAS_MUL=False,
               e0_ptr=scr, s_e0m=0, s_e0n=0, e0_scale=0.0, HAS_E0=False,
               e1_ptr=scr, s_e1m=0, s_e1n=0, e1_scale=0.0, HAS_E1=False,
               rows=rows, MASK_A=False, MASK_C=False, BM=TILE, BN=TILE, BK=TILE, PREC=PREC)
            tl.debug_barrier()
            tri_rowcol(scr + OFF_DLP, scr + OFF_LP, scr + OFF_DNV, BC, False, TILE)
            col_dot(scr + OFF_LB, scr + OFF_DM, scr + OFF_TV, BC, TILE)
            tl.debug_barrier()
            vec_axpy(scr + OFF_DNV, scr + OFF_TV, 1.0, scr + OFF_PV, BC, True, True)
            ww = dot_sum(scr + OFF_DWV, scr + OFF_W, BC, BC)
            vec_axpy(scr + OFF_DNV, scr + OFF_DWV, -1.0, scr + OFF_W, BC, True, True)
            tl.debug_barrier()
            vec_add_at(scr + OFF_DNV, rows - 1, ww + dp_e * p_e, BC)
            tl.debug_barrier()
            gate_grads(scr + OFF_DTHETA, scr + OFF_DAV, scr + OFF_DNV, theta_ptr + g_off + t0, eta_ptr + g_off + t0, alpha_ptr + g_off + t0, dtheta_ptr + g_off + t0, deta_ptr + g_off + t0, dalpha_ptr + g_off + t0, rows, BC, True, True)
            tl.debug_barrier()
