"""Generated from rule 2f689d34c8b059e9: TileLang backward (gpu, D=64, chunk=64). Do not edit."""
import tilelang.language as T

BH = T.dynamic("BH")
NC = T.dynamic("NC")
TP = T.dynamic("TP")
NG = T.dynamic("NG")
GM = T.dynamic("GM")


@T.prim_func
def titans_tl_bwd_2f689d34c8b059e9(
        Q: T.Tensor((BH, TP, 64), "float32"),
        K: T.Tensor((BH, TP, 64), "float32"),
        V: T.Tensor((BH, TP, 64), "float32"),
        DO: T.Tensor((BH, TP, 64), "float32"),
        DQ: T.Tensor((BH, TP, 64), "float32"),
        DK: T.Tensor((BH, TP, 64), "float32"),
        DV: T.Tensor((BH, TP, 64), "float32"),
        CM: T.Tensor((BH, NC, 64, 64), "float32"),
        CC: T.Tensor((BH, NC, 64), "float32"),
        CA: T.Tensor((BH, NC, 64), "float32"),
        CMO: T.Tensor((BH, NC, 64), "float32"),
        CW: T.Tensor((BH, NC, 64), "float32"),
        SC: T.Tensor((BH, NC, 3), "float32"),
        GLO: T.Tensor((NG,), "int32"),
        GHI: T.Tensor((NG,), "int32"),
        DCM: T.Tensor((BH, NC, 64, 64), "float32"),
        DCC: T.Tensor((BH, NC, 64), "float32"),
        DSC: T.Tensor((BH, NC, 3), "float32"),
        DCA: T.Tensor((BH, NC, 64), "float32"),
        DCMO: T.Tensor((BH, NC, 64), "float32"),
        DCW: T.Tensor((BH, NC, 64), "float32"),
        W0: T.Tensor((BH, 256, 64), "float32"),
        CKW0: T.Tensor((BH, NG, 256, 64), "float32"),
        GSTW0: T.Tensor((BH, GM, 256, 64), "float32"),
        DW0: T.Tensor((BH, 256, 64), "float32"),
        DWN0: T.Tensor((BH, 256, 64), "float32"),
        DKEY0: T.Tensor((BH, 256, 64), "float32"),
        S0: T.Tensor((BH, 256, 64), "float32"),
        CKS0: T.Tensor((BH, NG, 256, 64), "float32"),
        GSTS0: T.Tensor((BH, GM, 256, 64), "float32"),
        DS0: T.Tensor((BH, 256, 64), "float32"),
        DSN0: T.Tensor((BH, 256, 64), "float32"),
        W1: T.Tensor((BH, 64, 256), "float32"),
        CKW1: T.Tensor((BH, NG, 64, 256), "float32"),
        GSTW1: T.Tensor((BH, GM, 64, 256), "float32"),
        DW1: T.Tensor((BH, 64, 256), "float32"),
        DWN1: T.Tensor((BH, 64, 256), "float32"),
        DKEY1: T.Tensor((BH, 64, 256), "float32"),
        S1: T.Tensor((BH, 64, 256), "float32"),
        CKS1: T.Tensor((BH, NG, 64, 256), "float32"),
        GSTS1: T.Tensor((BH, GM, 64, 256), "float32"),
        DS1: T.Tensor((BH, 64, 256), "float32"),
        DSN1: T.Tensor((BH, 64, 256), "float32"),
        Z0: T.Tensor((BH, 64, 256), "float32"),
        X1: T.Tensor((BH, 64, 256), "float32"),
        XQ1: T.Tensor((BH, 64, 256), "float32"),
        ZQ0: T.Tensor((BH, 64, 256), "float32"),
        DP0: T.Tensor((BH, 64, 256), "float32"),
        G0: T.Tensor((BH, 64, 256), "float32"),
        Y0: T.Tensor((BH, 64, 64), "float32"),
        DG0: T.Tensor((BH, 64, 256), "float32"),
        DX0: T.Tensor((BH, 64, 64), "float32"),
        DZQ0: T.Tensor((BH, 64, 256), "float32"),
        DXQ0: T.Tensor((BH, 64, 64), "float32"),
        DZK0: T.Tensor((BH, 64, 256), "float32"),
        XA0: T.Tensor((BH, 64, 64), "float32"),
        YW0: T.Tensor((BH, 64, 64), "float32"),
        XM0: T.Tensor((BH, 64, 64), "float32"),
        QKR0: T.Tensor((BH, 64, 64), "float32"),
        GWK1: T.Tensor((BH, 64, 256), "float32"),
        G1: T.Tensor((BH, 64, 64), "float32"),
        Y1: T.Tensor((BH, 64, 256), "float32"),
        DG1: T.Tensor((BH, 64, 64), "float32"),
        DX1: T.Tensor((BH, 64, 256), "float32"),
        DZQ1: T.Tensor((BH, 64, 64), "float32"),
        DXQ1: T.Tensor((BH, 64, 256), "float32"),
        DZK1: T.Tensor((BH, 64, 64), "float32"),
        XA1: T.Tensor((BH, 64, 256), "float32"),
        YW1: T.Tensor((BH, 64, 256), "float32"),
        XM1: T.Tensor((BH, 64, 256), "float32"),
        QKR1: T.Tensor((BH, 64, 64), "float32"),
        NDU: T.Tensor((BH, 64, 256), "float32"),
        NDUS: T.Tensor((BH, 64, 256), "float32"),
        RD: T.Tensor((BH, 256), "float32"),
        QK: T.Tensor((BH, 64, 64), "float32"),
        QKN: T.Tensor((BH, 64, 64), "float32"),
        DMIX: T.Tensor((BH, 64, 64), "float32"),
        DQK: T.Tensor((BH, 64, 64), "float32")):
    with T.Kernel(BH, threads=128) as bh:
        frag5 = T.alloc_fragment((32, 32), "float32")
        shared7 = T.alloc_shared((32, 32), "float32")
        shared8 = T.alloc_shared((32, 32), "float32")
        frag10 = T.alloc_fragment((32, 32), "float32")
        shared12 = T.alloc_shared((32, 32), "float32")
        shared13 = T.alloc_shared((32, 32), "float32")
        frag15 = T.alloc_fragment((32, 32), "float32")
        shared17 = T.alloc_shared((32, 32), "float32")
        shared18 = T.alloc_shared((32, 32), "float32")
        frag21 = T.alloc_fragment((32, 32), "float32")
        shared23 = T.alloc_shared((32, 32), "float32")
        shared24 = T.alloc_shared((32, 32), "float32")
        frag26 = T.alloc_fragment((32, 32), "float32")
        shared28 = T.alloc_shared((32, 32), "float32")
        shared29 = T.alloc_shared((32, 32), "float32")
        frag32 = T.alloc_fragment((32, 32), "float32")
        shared34 = T.alloc_shared((32, 32), "float32")
        shared35 = T.alloc_shared((32, 32), "float32")
        frag37 = T.alloc_fragment((32, 32), "float32")
        shared39 = T.alloc_shared((32, 32), "float32")
        shared40 = T.alloc_shared((32, 32), "float32")
        frag44 = T.alloc_fragment((32, 32), "float32")
        shared46 = T.alloc_shared((32, 32), "float32")
        shared47 = T.alloc_shared((32, 32), "float32")
        frag49 = T.alloc_fragment((32, 32), "float32")
        shared51 = T.alloc_shared((32, 32), "float32")
        shared52 = T.alloc_shared((32, 32), "float32")
        frag54 = T.alloc_fragment((32, 32), "float32")
        shared56 = T.alloc_shared((32, 32), "float32")
        shared57 = T.alloc_shared((32, 32), "float32")
        frag59 = T.alloc_fragment((32, 32), "float32")
        shared61 = T.alloc_shared((32, 32), "float32")
        shared62 = T.alloc_shared((32, 32), "float32")
        frag64 = T.alloc_fragment((32, 32), "float32")
        frag65 = T.alloc_fragment((32, 32), "float32")
        shared67 = T.alloc_shared((32, 32), "float32")
        shared68 = T.alloc_shared((32, 32), "float32")
        shared70 = T.alloc_shared((32, 32), "float32")
        shared71 = T.alloc_shared((32, 32), "float32")
        shared73 = T.alloc_shared((32, 32), "float32")
        shared74 = T.alloc_shared((32, 32), "float32")
        frag76 = T.alloc_fragment((32, 32), "float32")
        shared78 = T.alloc_shared((32, 32), "float32")
        shared79 = T.alloc_shared((32, 32), "float32")
        frag98 = T.alloc_fragment((32, 32), "float32")
        shared100 = T.alloc_shared((32, 32), "float32")
        shared101 = T.alloc_shared((32, 32), "float32")
        shared103 = T.alloc_shared((32, 32), "float32")
        shared104 = T.alloc_shared((32, 32), "float32")
        frag106 = T.alloc_fragment((32, 32), "float32")
        shared108 = T.alloc_shared((32, 32), "float32")
        shared109 = T.alloc_shared((32, 32), "float32")
        frag112 = T.alloc_fragment((32, 32), "float32")
        shared114 = T.alloc_shared((32, 32), "float32")
        shared115 = T.alloc_shared((32, 32), "float32")
        frag129 = T.alloc_fragment((32, 32), "float32")
        shared131 = T.alloc_shared((32, 32), "float32")
        shared132 = T.alloc_shared((32, 32), "float32")
        shared134 = T.alloc_shared((32, 32), "float32")
        shared135 = T.alloc_shared((32, 32), "float32")
        frag137 = T.alloc_fragment((32, 32), "float32")
        shared139 = T.alloc_shared((32, 32), "float32")
        shared140 = T.alloc_shared((32, 32), "float32")
        frag143 = T.alloc_fragment((32, 32), "float32")
        shared145 = T.alloc_shared((32, 32), "float32")
        shared146 = T.alloc_shared((32, 32), "float32")
        frag152 = T.alloc_fragment((32, 32), "float32")
        shared154 = T.alloc_shared((32, 32), "float32")
        shared155 = T.alloc_shared((32, 32), "float32")
        frag157 = T.alloc_fragment((32, 32), "float32")
        shared159 = T.alloc_shared((32, 32), "float32")
        shared160 = T.alloc_shared((32, 32), "float32")
        frag163 = T.alloc_fragment((32, 32), "float32")
        shared165 = T.alloc_shared((32, 32), "float32")
        shared166 = T.alloc_shared((32, 32), "float32")
        frag168 = T.alloc_fragment((32, 32), "float32")
        shared170 = T.alloc_shared((32, 32), "float32")
        shared171 = T.alloc_shared((32, 32), "float32")
        frag175 = T.alloc_fragment((32, 32), "float32")
        shared177 = T.alloc_shared((32, 32), "float32")
        shared178 = T.alloc_shared((32, 32), "float32")
        frag181 = T.alloc_fragment((32, 32), "float32")
        shared183 = T.alloc_shared((32, 32), "float32")
        shared184 = T.alloc_shared((32, 32), "float32")
        frag186 = T.alloc_fragment((32, 32), "float32")
        shared188 = T.alloc_shared((32, 32), "float32")
        shared189 = T.alloc_shared((32, 32), "float32")
        frag191 = T.alloc_fragment((32, 32), "float32")
        shared193 = T.alloc_shared((32, 32), "float32")
        shared194 = T.alloc_shared((32, 32), "float32")
        frag198 = T.alloc_fragment((32, 32), "float32")
        shared200 = T.alloc_shared((32, 32), "float32")
        shared201 = T.alloc_shared((32, 32), "float32")
        frag203 = T.alloc_fragment((32, 32), "float32")
        shared205 = T.alloc_shared((32, 32), "float32")
        shared206 = T.alloc_shared((32, 32), "float32")
        frag209 = T.alloc_fragment((32, 32), "float32")
        shared211 = T.alloc_shared((32, 32), "float32")
        shared212 = T.alloc_shared((32, 32), "float32")
        frag214 = T.alloc_fragment((32, 32), "float32")
        shared216 = T.alloc_shared((32, 32), "float32")
        shared217 = T.alloc_shared((32, 32), "float32")
        frag221 = T.alloc_fragment((32, 32), "float32")
        shared223 = T.alloc_shared((32, 32), "float32")
        shared224 = T.alloc_shared((32, 32), "float32")
        frag227 = T.alloc_fragment((32, 32), "float32")
        shared229 = T.alloc_shared((32, 32), "float32")
        shared230 = T.alloc_shared((32, 32), "float32")
        frag232 = T.alloc_fragment((32, 32), "float32")
        shared234 = T.alloc_shared((32, 32), "float32")
        shared235 = T.alloc_shared((32, 32), "float32")
        frag237 = T.alloc_fragment((32, 32), "float32")
        shared239 = T.alloc_shared((32, 32), "float32")
        shared240 = T.alloc_shared((32, 32), "float32")
        frag244 = T.alloc_fragment((32, 32), "float32")
        shared246 = T.alloc_shared((32, 32), "float32")
        shared247 = T.alloc_shared((32, 32), "float32")
        frag249 = T.alloc_fragment((32, 32), "float32")
        shared251 = T.alloc_shared((32, 32), "float32")
        shared252 = T.alloc_shared((32, 32), "float32")
        frag256 = T.alloc_fragment((32, 32), "float32")
        shared258 = T.alloc_shared((32, 32), "float32")
        shared259 = T.alloc_shared((32, 32), "float32")
        frag261 = T.alloc_fragment((32, 32), "float32")
        shared263 = T.alloc_shared((32, 32), "float32")
        shared264 = T.alloc_shared((32, 32), "float32")
        frag268 = T.alloc_fragment((32, 32), "float32")
        shared270 = T.alloc_shared((32, 32), "float32")
        shared271 = T.alloc_shared((32, 32), "float32")
        frag273 = T.alloc_fragment((32, 32), "float32")
        shared275 = T.alloc_shared((32, 32), "float32")
        shared276 = T.alloc_shared((32, 32), "float32")
        W0_r = T.alloc_shared((256, 64), "float32")
        W1_r = T.alloc_shared((64, 256), "float32")
        G1_r = T.alloc_shared((64, 64), "float32")
        DZQ1_r = T.alloc_shared((64, 64), "float32")
        T.copy(W0[bh, 0, 0], W0_r)
        T.copy(W1[bh, 0, 0], W1_r)
        T.copy(G1[bh, 0, 0], G1_r)
        T.copy(DZQ1[bh, 0, 0], DZQ1_r)
        T.sync_threads()
        for gi in T.serial(NG):
            g = NG - 1 - gi
            for i1, j1 in T.Parallel(256, 64):
                W0_r[i1, j1] = CKW0[bh, g, i1, j1]
                S0[bh, i1, j1] = CKS0[bh, g, i1, j1]
            T.sync_threads()
            for i2, j2 in T.Parallel(64, 256):
                W1_r[i2, j2] = CKW1[bh, g, i2, j2]
                S1[bh, i2, j2] = CKS1[bh, g, i2, j2]
            T.sync_threads()
            for m1 in T.serial(NC):
                if m1 >= GLO[g] and m1 < GHI[g]:
                    t1 = m1 * 64
                    for i3, j3 in T.Parallel(256, 64):
                        GSTW0[bh, m1 - GLO[g], i3, j3] = W0_r[i3, j3]
                        GSTS0[bh, m1 - GLO[g], i3, j3] = S0[bh, i3, j3]
                    T.sync_threads()
                    for i4, j4 in T.Parallel(64, 256):
                        GSTW1[bh, m1 - GLO[g], i4, j4] = W1_r[i4, j4]
                        GSTS1[bh, m1 - GLO[g], i4, j4] = S1[bh, i4, j4]
                    T.sync_threads()
                    for mi6 in T.serial(2):
                        for ni6 in T.serial(8):
                            T.clear(frag5)
                            for ki9 in T.Pipelined(2, num_stages=2):
                                T.copy(K[bh, t1 + mi6 * 32, ki9 * 32], shared7)
                                T.copy(W0_r[0 + ni6 * 32, ki9 * 32], shared8)
                                T.gemm(shared7, shared8, frag5, transpose_A=False, transpose_B=True)
                            for ii6, jj6 in T.Parallel(32, 32):
                                Z0[bh, (mi6 * 32 + ii6), (ni6 * 32 + jj6)] = frag5[ii6, jj6]
                                X1[bh, (mi6 * 32 + ii6), (ni6 * 32 + jj6)] = (frag5[ii6, jj6] * T.sigmoid(frag5[ii6, jj6]))
                    T.sync_threads()
                    for mi11 in T.serial(2):
                        for ni11 in T.serial(2):
                            T.clear(frag10)
                            for ki14 in T.Pipelined(8, num_stages=2):
                                T.copy(X1[bh, 0 + mi11 * 32, ki14 * 32], shared12)
                                T.copy(W1_r[0 + ni11 * 32, ki14 * 32], shared13)
                                T.gemm(shared12, shared13, frag10, transpose_A=False, transpose_B=True)
                            for ii11, jj11 in T.Parallel(32, 32):
                                G1_r[(mi11 * 32 + ii11), (ni11 * 32 + jj11)] = (frag10[ii11, jj11] - V[bh, t1 + (mi11 * 32 + ii11), (ni11 * 32 + jj11)])
                    T.sync_threads()
                    for mi16 in T.serial(2):
                        for ni16 in T.serial(8):
                            T.clear(frag15)
                            for ki19 in T.Pipelined(2, num_stages=2):
                                T.copy(G1_r[0 + mi16 * 32, ki19 * 32], shared17)
                                T.copy(W1_r[0 + ki19 * 32, ni16 * 32], shared18)
                                T.gemm(shared17, shared18, frag15, transpose_A=False, transpose_B=False)
                            for ii16, jj16 in T.Parallel(32, 32):
                                G0[bh, (mi16 * 32 + ii16), (ni16 * 32 + jj16)] = frag15[ii16, jj16] * (T.sigmoid(Z0[bh, (mi16 * 32 + ii16), (ni16 * 32 + jj16)]) * (1.0 + Z0[bh, (mi16 * 32 + ii16), (ni16 * 32 + jj16)] * (1.0 - T.sigmoid(Z0[bh, (mi16 * 32 + ii16), (ni16 * 32 + jj16)]))))
                    T.sync_threads()
                    for i20, j20 in T.Parallel(64, 64):
                        Y0[bh, i20, j20] = -CC[bh, m1, i20] * K[bh, t1 + i20, j20]
                        YW0[bh, i20, j20] = -CW[bh, m1, i20] * K[bh, t1 + i20, j20]
                    T.sync_threads()
                    for mi22 in T.serial(8):
                        for ni22 in T.serial(2):
                            for ii22, jj22 in T.Parallel(32, 32):
                                frag21[ii22, jj22] = W0_r[(mi22 * 32 + ii22), (ni22 * 32 + jj22)] * SC[bh, m1, 0] + SC[bh, m1, 1] * S0[bh, (mi22 * 32 + ii22), (ni22 * 32 + jj22)]
                            for ki25 in T.Pipelined(2, num_stages=2):
                                T.copy(G0[bh, 0 + ki25 * 32, mi22 * 32], shared23)
                                T.copy(Y0[bh, 0 + ki25 * 32, ni22 * 32], shared24)
                                T.gemm(shared23, shared24, frag21, transpose_A=True, transpose_B=False)
                            for ii22, jj22 in T.Parallel(32, 32):
                                W0_r[(mi22 * 32 + ii22), (ni22 * 32 + jj22)] = frag21[ii22, jj22]
                    T.sync_threads()
                    for mi27 in T.serial(8):
                        for ni27 in T.serial(2):
                            for ii27, jj27 in T.Parallel(32, 32):
                                frag26[ii27, jj27] = SC[bh, m1, 2] * S0[bh, (mi27 * 32 + ii27), (ni27 * 32 + jj27)]
                            for ki30 in T.Pipelined(2, num_stages=2):
                                T.copy(G0[bh, 0 + ki30 * 32, mi27 * 32], shared28)
                                T.copy(YW0[bh, 0 + ki30 * 32, ni27 * 32], shared29)
                                T.gemm(shared28, shared29, frag26, transpose_A=True, transpose_B=False)
                            for ii27, jj27 in T.Parallel(32, 32):
                                S0[bh, (mi27 * 32 + ii27), (ni27 * 32 + jj27)] = frag26[ii27, jj27]
                    T.sync_threads()
                    for i31, j31 in T.Parallel(64, 256):
                        Y1[bh, i31, j31] = -CC[bh, m1, i31] * X1[bh, 0 + i31, j31]
                        YW1[bh, i31, j31] = -CW[bh, m1, i31] * X1[bh, 0 + i31, j31]
                    T.sync_threads()
                    for mi33 in T.serial(2):
                        for ni33 in T.serial(8):
                            for ii33, jj33 in T.Parallel(32, 32):
                                frag32[ii33, jj33] = W1_r[(mi33 * 32 + ii33), (ni33 * 32 + jj33)] * SC[bh, m1, 0] + SC[bh, m1, 1] * S1[bh, (mi33 * 32 + ii33), (ni33 * 32 + jj33)]
                            for ki36 in T.Pipelined(2, num_stages=2):
                                T.copy(G1_r[0 + ki36 * 32, mi33 * 32], shared34)
                                T.copy(Y1[bh, 0 + ki36 * 32, ni33 * 32], shared35)
                                T.gemm(shared34, shared35, frag32, transpose_A=True, transpose_B=False)
                            for ii33, jj33 in T.Parallel(32, 32):
                                W1_r[(mi33 * 32 + ii33), (ni33 * 32 + jj33)] = frag32[ii33, jj33]
                    T.sync_threads()
                    for mi38 in T.serial(2):
                        for ni38 in T.serial(8):
                            for ii38, jj38 in T.Parallel(32, 32):
                                frag37[ii38, jj38] = SC[bh, m1, 2] * S1[bh, (mi38 * 32 + ii38), (ni38 * 32 + jj38)]
                            for ki41 in T.Pipelined(2, num_stages=2):
                                T.copy(G1_r[0 + ki41 * 32, mi38 * 32], shared39)
                                T.copy(YW1[bh, 0 + ki41 * 32, ni38 * 32], shared40)
                                T.gemm(shared39, shared40, frag37, transpose_A=True, transpose_B=False)
                            for ii38, jj38 in T.Parallel(32, 32):
                                S1[bh, (mi38 * 32 + ii38), (ni38 * 32 + jj38)] = frag37[ii38, jj38]
                    T.sync_threads()
            for m2 in T.serial(NC):
                n2 = NC - 1 - m2
                if n2 >= GLO[g] and n2 < GHI[g]:
                    t2 = n2 * 64
                    for i42, j42 in T.Parallel(256, 64):
                        W0_r[i42, j42] = GSTW0[bh, n2 - GLO[g], i42, j42]
                        S0[bh, i42, j42] = GSTS0[bh, n2 - GLO[g], i42, j42]
                    T.sync_threads()
                    for i43, j43 in T.Parallel(64, 256):
                        W1_r[i43, j43] = GSTW1[bh, n2 - GLO[g], i43, j43]
                        S1[bh, i43, j43] = GSTS1[bh, n2 - GLO[g], i43, j43]
                    T.sync_threads()
                    for mi45 in T.serial(2):
                        for ni45 in T.serial(8):
                            T.clear(frag44)
                            for ki48 in T.Pipelined(2, num_stages=2):
                                T.copy(K[bh, t2 + mi45 * 32, ki48 * 32], shared46)
                                T.copy(W0_r[0 + ni45 * 32, ki48 * 32], shared47)
                                T.gemm(shared46, shared47, frag44, transpose_A=False, transpose_B=True)
                            for ii45, jj45 in T.Parallel(32, 32):
                                Z0[bh, (mi45 * 32 + ii45), (ni45 * 32 + jj45)] = frag44[ii45, jj45]
                                X1[bh, (mi45 * 32 + ii45), (ni45 * 32 + jj45)] = (frag44[ii45, jj45] * T.sigmoid(frag44[ii45, jj45]))
                    T.sync_threads()
                    for mi50 in T.serial(2):
                        for ni50 in T.serial(2):
                            T.clear(frag49)
                            for ki53 in T.Pipelined(8, num_stages=2):
                                T.copy(X1[bh, 0 + mi50 * 32, ki53 * 32], shared51)
                                T.copy(W1_r[0 + ni50 * 32, ki53 * 32], shared52)
                                T.gemm(shared51, shared52, frag49, transpose_A=False, transpose_B=True)
                            for ii50, jj50 in T.Parallel(32, 32):
                                G1_r[(mi50 * 32 + ii50), (ni50 * 32 + jj50)] = (frag49[ii50, jj50] - V[bh, t2 + (mi50 * 32 + ii50), (ni50 * 32 + jj50)])
                    T.sync_threads()
                    for mi55 in T.serial(2):
                        for ni55 in T.serial(8):
                            T.clear(frag54)
                            for ki58 in T.Pipelined(2, num_stages=2):
                                T.copy(G1_r[0 + mi55 * 32, ki58 * 32], shared56)
                                T.copy(W1_r[0 + ki58 * 32, ni55 * 32], shared57)
                                T.gemm(shared56, shared57, frag54, transpose_A=False, transpose_B=False)
                            for ii55, jj55 in T.Parallel(32, 32):
                                G0[bh, (mi55 * 32 + ii55), (ni55 * 32 + jj55)] = frag54[ii55, jj55] * (T.sigmoid(Z0[bh, (mi55 * 32 + ii55), (ni55 * 32 + jj55)]) * (1.0 + Z0[bh, (mi55 * 32 + ii55), (ni55 * 32 + jj55)] * (1.0 - T.sigmoid(Z0[bh, (mi55 * 32 + ii55), (ni55 * 32 + jj55)]))))
                                GWK1[bh, (mi55 * 32 + ii55), (ni55 * 32 + jj55)] = frag54[ii55, jj55]
                    T.sync_threads()
                    for mi60 in T.serial(2):
                        for ni60 in T.serial(2):
                            T.clear(frag59)
                            for ki63 in T.Pipelined(2, num_stages=2):
                                T.copy(Q[bh, t2 + mi60 * 32, ki63 * 32], shared61)
                                T.copy(K[bh, t2 + ni60 * 32, ki63 * 32], shared62)
                                T.gemm(shared61, shared62, frag59, transpose_A=False, transpose_B=True)
                            for ii60, jj60 in T.Parallel(32, 32):
                                QK[bh, (mi60 * 32 + ii60), (ni60 * 32 + jj60)] = -CM[bh, n2, (mi60 * 32 + ii60), (ni60 * 32 + jj60)] * frag59[ii60, jj60]
                                QKR0[bh, (mi60 * 32 + ii60), (ni60 * 32 + jj60)] = frag59[ii60, jj60]
                    T.sync_threads()
                    for mi66 in T.serial(2):
                        for ni66 in T.serial(8):
                            T.clear(frag64)
                            T.clear(frag65)
                            for ki69 in T.Pipelined(2, num_stages=2):
                                T.copy(Q[bh, t2 + mi66 * 32, ki69 * 32], shared67)
                                T.copy(W0_r[0 + ni66 * 32, ki69 * 32], shared68)
                                T.gemm(shared67, shared68, frag65, transpose_A=False, transpose_B=True)
                            for ii66, jj66 in T.Parallel(32, 32):
                                frag64[ii66, jj66] += CA[bh, n2, (mi66 * 32 + ii66)] * frag65[ii66, jj66]
                            T.clear(frag65)
                            for ki72 in T.Pipelined(2, num_stages=2):
                                T.copy(Q[bh, t2 + mi66 * 32, ki72 * 32], shared70)
                                T.copy(S0[bh, 0 + ni66 * 32, ki72 * 32], shared71)
                                T.gemm(shared70, shared71, frag65, transpose_A=False, transpose_B=True)
                            for ii66, jj66 in T.Parallel(32, 32):
                                frag64[ii66, jj66] += CMO[bh, n2, (mi66 * 32 + ii66)] * frag65[ii66, jj66]
                            for ki75 in T.Pipelined(2, num_stages=2):
                                T.copy(QK[bh, 0 + mi66 * 32, ki75 * 32], shared73)
                                T.copy(G0[bh, 0 + ki75 * 32, ni66 * 32], shared74)
                                T.gemm(shared73, shared74, frag64, transpose_A=False, transpose_B=False)
                            for ii66, jj66 in T.Parallel(32, 32):
                                XQ1[bh, (mi66 * 32 + ii66), (ni66 * 32 + jj66)] = (frag64[ii66, jj66] * T.sigmoid(frag64[ii66, jj66]))
                                ZQ0[bh, (mi66 * 32 + ii66), (ni66 * 32 + jj66)] = frag64[ii66, jj66]
                    T.sync_threads()
                    for mi77 in T.serial(2):
                        for ni77 in T.serial(2):
                            T.clear(frag76)
                            for ki80 in T.Pipelined(8, num_stages=2):
                                T.copy(XQ1[bh, 0 + mi77 * 32, ki80 * 32], shared78)
                                T.copy(X1[bh, 0 + ni77 * 32, ki80 * 32], shared79)
                                T.gemm(shared78, shared79, frag76, transpose_A=False, transpose_B=True)
                            for ii77, jj77 in T.Parallel(32, 32):
                                QK[bh, (mi77 * 32 + ii77), (ni77 * 32 + jj77)] = -CM[bh, n2, (mi77 * 32 + ii77), (ni77 * 32 + jj77)] * frag76[ii77, jj77]
                                QKR1[bh, (mi77 * 32 + ii77), (ni77 * 32 + jj77)] = frag76[ii77, jj77]
                    T.sync_threads()
                    for i81, j81 in T.Parallel(64, 64):
                        Y0[bh, i81, j81] = -CC[bh, n2, i81] * K[bh, t2 + i81, j81]
                        YW0[bh, i81, j81] = -CW[bh, n2, i81] * K[bh, t2 + i81, j81]
                    T.sync_threads()
                    for i82, j82 in T.Parallel(64, 256):
                        Y1[bh, i82, j82] = -CC[bh, n2, i82] * X1[bh, 0 + i82, j82]
                        YW1[bh, i82, j82] = -CW[bh, n2, i82] * X1[bh, 0 + i82, j82]
                    T.sync_threads()
                    for i83, j83 in T.Parallel(1, 64):
                        DCC[bh, n2, j83] = 0.0
                        DCA[bh, n2, j83] = 0.0
                        DCMO[bh, n2, j83] = 0.0
                        DCW[bh, n2, j83] = 0.0
                    T.sync_threads()
                    for i84, j84 in T.Parallel(64, 64):
                        DCM[bh, n2, i84, j84] = 0.0
                    T.sync_threads()
                    for i85, j85 in T.Parallel(1, 3):
                        DSC[bh, n2, j85] = 0.0
                    T.sync_threads()
                    for i86, j86 in T.Parallel(256, 64):
                        DKEY0[bh, i86, j86] = 0.0
                    T.sync_threads()
                    for i87, j87 in T.Parallel(64, 256):
                        DKEY1[bh, i87, j87] = 0.0
                    T.sync_threads()
                    for i88, j88 in T.Parallel(1, 256):
                        RD[bh, j88] = 0.0
                    T.sync_threads()
                    for r89 in T.Parallel(256):
                        for c89 in T.serial(64):
                            RD[bh, r89] += DW0[bh, r89, c89] * W0_r[r89, c89]
                    T.sync_threads()
                    for z90 in T.Parallel(1):
                        for r90 in T.serial(256):
                            DSC[bh, n2, 0] += RD[bh, r90]
                    T.sync_threads()
                    for i91, j91 in T.Parallel(1, 256):
                        RD[bh, j91] = 0.0
                    T.sync_threads()
                    for r92 in T.Parallel(256):
                        for c92 in T.serial(64):
                            RD[bh, r92] += DW0[bh, r92, c92] * S0[bh, r92, c92]
                    T.sync_threads()
                    for z93 in T.Parallel(1):
                        for r93 in T.serial(256):
                            DSC[bh, n2, 1] += RD[bh, r93]
                    T.sync_threads()
                    for i94, j94 in T.Parallel(1, 256):
                        RD[bh, j94] = 0.0
                    T.sync_threads()
                    for r95 in T.Parallel(256):
                        for c95 in T.serial(64):
                            RD[bh, r95] += DS0[bh, r95, c95] * S0[bh, r95, c95]
                    T.sync_threads()
                    for z96 in T.Parallel(1):
                        for r96 in T.serial(256):
                            DSC[bh, n2, 2] += RD[bh, r96]
                    T.sync_threads()
                    for i97, j97 in T.Parallel(256, 64):
                        DWN0[bh, i97, j97] = DW0[bh, i97, j97] * SC[bh, n2, 0]
                        DSN0[bh, i97, j97] = SC[bh, n2, 1] * DW0[bh, i97, j97] + SC[bh, n2, 2] * DS0[bh, i97, j97]
                    T.sync_threads()
                    for mi99 in T.serial(2):
                        for ni99 in T.serial(8):
                            T.clear(frag98)
                            for ki102 in T.Pipelined(2, num_stages=2):
                                T.copy(Y0[bh, 0 + mi99 * 32, ki102 * 32], shared100)
                                T.copy(DW0[bh, 0 + ni99 * 32, ki102 * 32], shared101)
                                T.gemm(shared100, shared101, frag98, transpose_A=False, transpose_B=True)
                            for ki105 in T.Pipelined(2, num_stages=2):
                                T.copy(YW0[bh, 0 + mi99 * 32, ki105 * 32], shared103)
                                T.copy(DS0[bh, 0 + ni99 * 32, ki105 * 32], shared104)
                                T.gemm(shared103, shared104, frag98, transpose_A=False, transpose_B=True)
                            for ii99, jj99 in T.Parallel(32, 32):
                                DG0[bh, (mi99 * 32 + ii99), (ni99 * 32 + jj99)] = frag98[ii99, jj99]
                    T.sync_threads()
                    for mi107 in T.serial(2):
                        for ni107 in T.serial(2):
                            T.clear(frag106)
                            for ki110 in T.Pipelined(8, num_stages=2):
                                T.copy(G0[bh, 0 + mi107 * 32, ki110 * 32], shared108)
                                T.copy(DW0[bh, 0 + ki110 * 32, ni107 * 32], shared109)
                                T.gemm(shared108, shared109, frag106, transpose_A=False, transpose_B=False)
                            for ii107, jj107 in T.Parallel(32, 32):
                                NDU[bh, (mi107 * 32 + ii107), (ni107 * 32 + jj107)] = frag106[ii107, jj107]
                    T.sync_threads()
                    for r111 in T.Parallel(64):
                        for c111 in T.serial(64):
                            DCC[bh, n2, r111] -= NDU[bh, r111, c111] * K[bh, t2 + r111, c111]
                    T.sync_threads()
                    for mi113 in T.serial(2):
                        for ni113 in T.serial(2):
                            T.clear(frag112)
                            for ki116 in T.Pipelined(8, num_stages=2):
                                T.copy(G0[bh, 0 + mi113 * 32, ki116 * 32], shared114)
                                T.copy(DS0[bh, 0 + ki116 * 32, ni113 * 32], shared115)
                                T.gemm(shared114, shared115, frag112, transpose_A=False, transpose_B=False)
                            for ii113, jj113 in T.Parallel(32, 32):
                                NDUS[bh, (mi113 * 32 + ii113), (ni113 * 32 + jj113)] = frag112[ii113, jj113]
                    T.sync_threads()
                    for r117 in T.Parallel(64):
                        for c117 in T.serial(64):
                            DCW[bh, n2, r117] -= NDUS[bh, r117, c117] * K[bh, t2 + r117, c117]
                    T.sync_threads()
                    for i118, j118 in T.Parallel(64, 64):
                        DX0[bh, i118, j118] = -CC[bh, n2, i118] * NDU[bh, i118, j118] - CW[bh, n2, i118] * NDUS[bh, i118, j118]
                    T.sync_threads()
                    for i119, j119 in T.Parallel(1, 64):
                        RD[bh, j119] = 0.0
                    T.sync_threads()
                    for r120 in T.Parallel(64):
                        for c120 in T.serial(256):
                            RD[bh, r120] += DW1[bh, r120, c120] * W1_r[r120, c120]
                    T.sync_threads()
                    for z121 in T.Parallel(1):
                        for r121 in T.serial(64):
                            DSC[bh, n2, 0] += RD[bh, r121]
                    T.sync_threads()
                    for i122, j122 in T.Parallel(1, 64):
                        RD[bh, j122] = 0.0
                    T.sync_threads()
                    for r123 in T.Parallel(64):
                        for c123 in T.serial(256):
                            RD[bh, r123] += DW1[bh, r123, c123] * S1[bh, r123, c123]
                    T.sync_threads()
                    for z124 in T.Parallel(1):
                        for r124 in T.serial(64):
                            DSC[bh, n2, 1] += RD[bh, r124]
                    T.sync_threads()
                    for i125, j125 in T.Parallel(1, 64):
                        RD[bh, j125] = 0.0
                    T.sync_threads()
                    for r126 in T.Parallel(64):
                        for c126 in T.serial(256):
                            RD[bh, r126] += DS1[bh, r126, c126] * S1[bh, r126, c126]
                    T.sync_threads()
                    for z127 in T.Parallel(1):
                        for r127 in T.serial(64):
                            DSC[bh, n2, 2] += RD[bh, r127]
                    T.sync_threads()
                    for i128, j128 in T.Parallel(64, 256):
                        DWN1[bh, i128, j128] = DW1[bh, i128, j128] * SC[bh, n2, 0]
                        DSN1[bh, i128, j128] = SC[bh, n2, 1] * DW1[bh, i128, j128] + SC[bh, n2, 2] * DS1[bh, i128, j128]
                    T.sync_threads()
                    for mi130 in T.serial(2):
                        for ni130 in T.serial(2):
                            T.clear(frag129)
                            for ki133 in T.Pipelined(8, num_stages=2):
                                T.copy(Y1[bh, 0 + mi130 * 32, ki133 * 32], shared131)
                                T.copy(DW1[bh, 0 + ni130 * 32, ki133 * 32], shared132)
                                T.gemm(shared131, shared132, frag129, transpose_A=False, transpose_B=True)
                            for ki136 in T.Pipelined(8, num_stages=2):
                                T.copy(YW1[bh, 0 + mi130 * 32, ki136 * 32], shared134)
                                T.copy(DS1[bh, 0 + ni130 * 32, ki136 * 32], shared135)
                                T.gemm(shared134, shared135, frag129, transpose_A=False, transpose_B=True)
                            for ii130, jj130 in T.Parallel(32, 32):
                                DG1[bh, (mi130 * 32 + ii130), (ni130 * 32 + jj130)] = frag129[ii130, jj130]
                    T.sync_threads()
                    for mi138 in T.serial(2):
                        for ni138 in T.serial(8):
                            T.clear(frag137)
                            for ki141 in T.Pipelined(2, num_stages=2):
                                T.copy(G1_r[0 + mi138 * 32, ki141 * 32], shared139)
                                T.copy(DW1[bh, 0 + ki141 * 32, ni138 * 32], shared140)
                                T.gemm(shared139, shared140, frag137, transpose_A=False, transpose_B=False)
                            for ii138, jj138 in T.Parallel(32, 32):
                                NDU[bh, (mi138 * 32 + ii138), (ni138 * 32 + jj138)] = frag137[ii138, jj138]
                    T.sync_threads()
                    for r142 in T.Parallel(64):
                        for c142 in T.serial(256):
                            DCC[bh, n2, r142] -= NDU[bh, r142, c142] * X1[bh, 0 + r142, c142]
                    T.sync_threads()
                    for mi144 in T.serial(2):
                        for ni144 in T.serial(8):
                            T.clear(frag143)
                            for ki147 in T.Pipelined(2, num_stages=2):
                                T.copy(G1_r[0 + mi144 * 32, ki147 * 32], shared145)
                                T.copy(DS1[bh, 0 + ki147 * 32, ni144 * 32], shared146)
                                T.gemm(shared145, shared146, frag143, transpose_A=False, transpose_B=False)
                            for ii144, jj144 in T.Parallel(32, 32):
                                NDUS[bh, (mi144 * 32 + ii144), (ni144 * 32 + jj144)] = frag143[ii144, jj144]
                    T.sync_threads()
                    for r148 in T.Parallel(64):
                        for c148 in T.serial(256):
                            DCW[bh, n2, r148] -= NDUS[bh, r148, c148] * X1[bh, 0 + r148, c148]
                    T.sync_threads()
                    for i149, j149 in T.Parallel(64, 256):
                        DX1[bh, i149, j149] = -CC[bh, n2, i149] * NDU[bh, i149, j149] - CW[bh, n2, i149] * NDUS[bh, i149, j149]
                    T.sync_threads()
                    for i150, j150 in T.Parallel(64, 64):
                        DZQ1_r[i150, j150] = DO[bh, t2 + i150, j150]
                    T.sync_threads()
                    for i151, j151 in T.Parallel(64, 256):
                        XA1[bh, i151, j151] = CA[bh, n2, i151] * XQ1[bh, 0 + i151, j151]
                        XM1[bh, i151, j151] = CMO[bh, n2, i151] * XQ1[bh, 0 + i151, j151]
                    T.sync_threads()
                    for mi153 in T.serial(2):
                        for ni153 in T.serial(8):
                            T.clear(frag152)
                            for ki156 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ1_r[0 + mi153 * 32, ki156 * 32], shared154)
                                T.copy(W1_r[0 + ki156 * 32, ni153 * 32], shared155)
                                T.gemm(shared154, shared155, frag152, transpose_A=False, transpose_B=False)
                            for ii153, jj153 in T.Parallel(32, 32):
                                NDU[bh, (mi153 * 32 + ii153), (ni153 * 32 + jj153)] = frag152[ii153, jj153]
                    T.sync_threads()
                    for mi158 in T.serial(2):
                        for ni158 in T.serial(8):
                            for ii158, jj158 in T.Parallel(32, 32):
                                frag157[ii158, jj158] = DWN1[bh, (mi158 * 32 + ii158), (ni158 * 32 + jj158)]
                            for ki161 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ1_r[0 + ki161 * 32, mi158 * 32], shared159)
                                T.copy(XA1[bh, 0 + ki161 * 32, ni158 * 32], shared160)
                                T.gemm(shared159, shared160, frag157, transpose_A=True, transpose_B=False)
                            for ii158, jj158 in T.Parallel(32, 32):
                                DWN1[bh, (mi158 * 32 + ii158), (ni158 * 32 + jj158)] = frag157[ii158, jj158]
                    T.sync_threads()
                    for r162 in T.Parallel(64):
                        for c162 in T.serial(256):
                            DCA[bh, n2, r162] += NDU[bh, r162, c162] * XQ1[bh, 0 + r162, c162]
                    T.sync_threads()
                    for mi164 in T.serial(2):
                        for ni164 in T.serial(8):
                            T.clear(frag163)
                            for ki167 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ1_r[0 + mi164 * 32, ki167 * 32], shared165)
                                T.copy(S1[bh, 0 + ki167 * 32, ni164 * 32], shared166)
                                T.gemm(shared165, shared166, frag163, transpose_A=False, transpose_B=False)
                            for ii164, jj164 in T.Parallel(32, 32):
                                NDUS[bh, (mi164 * 32 + ii164), (ni164 * 32 + jj164)] = frag163[ii164, jj164]
                    T.sync_threads()
                    for mi169 in T.serial(2):
                        for ni169 in T.serial(8):
                            for ii169, jj169 in T.Parallel(32, 32):
                                frag168[ii169, jj169] = DSN1[bh, (mi169 * 32 + ii169), (ni169 * 32 + jj169)]
                            for ki172 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ1_r[0 + ki172 * 32, mi169 * 32], shared170)
                                T.copy(XM1[bh, 0 + ki172 * 32, ni169 * 32], shared171)
                                T.gemm(shared170, shared171, frag168, transpose_A=True, transpose_B=False)
                            for ii169, jj169 in T.Parallel(32, 32):
                                DSN1[bh, (mi169 * 32 + ii169), (ni169 * 32 + jj169)] = frag168[ii169, jj169]
                    T.sync_threads()
                    for r173 in T.Parallel(64):
                        for c173 in T.serial(256):
                            DCMO[bh, n2, r173] += NDUS[bh, r173, c173] * XQ1[bh, 0 + r173, c173]
                    T.sync_threads()
                    for i174, j174 in T.Parallel(64, 256):
                        DXQ1[bh, i174, j174] = CA[bh, n2, i174] * NDU[bh, i174, j174] + CMO[bh, n2, i174] * NDUS[bh, i174, j174]
                    T.sync_threads()
                    for mi176 in T.serial(2):
                        for ni176 in T.serial(2):
                            T.clear(frag175)
                            for ki179 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ1_r[0 + mi176 * 32, ki179 * 32], shared177)
                                T.copy(G1_r[0 + ni176 * 32, ki179 * 32], shared178)
                                T.gemm(shared177, shared178, frag175, transpose_A=False, transpose_B=True)
                            for ii176, jj176 in T.Parallel(32, 32):
                                DMIX[bh, (mi176 * 32 + ii176), (ni176 * 32 + jj176)] = frag175[ii176, jj176]
                    T.sync_threads()
                    for i180, j180 in T.Parallel(64, 64):
                        QKN[bh, i180, j180] = -CM[bh, n2, i180, j180] * QKR1[bh, i180, j180]
                        DCM[bh, n2, i180, j180] = DCM[bh, n2, i180, j180] - DMIX[bh, i180, j180] * QKR1[bh, i180, j180]
                        DQK[bh, i180, j180] = -CM[bh, n2, i180, j180] * DMIX[bh, i180, j180]
                    T.sync_threads()
                    for mi182 in T.serial(2):
                        for ni182 in T.serial(2):
                            for ii182, jj182 in T.Parallel(32, 32):
                                frag181[ii182, jj182] = DG1[bh, (mi182 * 32 + ii182), (ni182 * 32 + jj182)]
                            for ki185 in T.Pipelined(2, num_stages=2):
                                T.copy(QKN[bh, 0 + ki185 * 32, mi182 * 32], shared183)
                                T.copy(DZQ1_r[0 + ki185 * 32, ni182 * 32], shared184)
                                T.gemm(shared183, shared184, frag181, transpose_A=True, transpose_B=False)
                            for ii182, jj182 in T.Parallel(32, 32):
                                DG1[bh, (mi182 * 32 + ii182), (ni182 * 32 + jj182)] = frag181[ii182, jj182]
                    T.sync_threads()
                    for mi187 in T.serial(2):
                        for ni187 in T.serial(8):
                            for ii187, jj187 in T.Parallel(32, 32):
                                frag186[ii187, jj187] = DXQ1[bh, (mi187 * 32 + ii187), (ni187 * 32 + jj187)]
                            for ki190 in T.Pipelined(2, num_stages=2):
                                T.copy(DQK[bh, 0 + mi187 * 32, ki190 * 32], shared188)
                                T.copy(X1[bh, 0 + ki190 * 32, ni187 * 32], shared189)
                                T.gemm(shared188, shared189, frag186, transpose_A=False, transpose_B=False)
                            for ii187, jj187 in T.Parallel(32, 32):
                                DXQ1[bh, (mi187 * 32 + ii187), (ni187 * 32 + jj187)] = frag186[ii187, jj187]
                    T.sync_threads()
                    for mi192 in T.serial(2):
                        for ni192 in T.serial(8):
                            for ii192, jj192 in T.Parallel(32, 32):
                                frag191[ii192, jj192] = DX1[bh, (mi192 * 32 + ii192), (ni192 * 32 + jj192)]
                            for ki195 in T.Pipelined(2, num_stages=2):
                                T.copy(DQK[bh, 0 + ki195 * 32, mi192 * 32], shared193)
                                T.copy(XQ1[bh, 0 + ki195 * 32, ni192 * 32], shared194)
                                T.gemm(shared193, shared194, frag191, transpose_A=True, transpose_B=False)
                            for ii192, jj192 in T.Parallel(32, 32):
                                DX1[bh, (mi192 * 32 + ii192), (ni192 * 32 + jj192)] = frag191[ii192, jj192]
                    T.sync_threads()
                    for i196, j196 in T.Parallel(64, 256):
                        DZQ0[bh, i196, j196] = DXQ1[bh, i196, j196] * (T.sigmoid(ZQ0[bh, i196, j196]) * (1.0 + ZQ0[bh, i196, j196] * (1.0 - T.sigmoid(ZQ0[bh, i196, j196]))))
                    T.sync_threads()
                    for i197, j197 in T.Parallel(64, 64):
                        XA0[bh, i197, j197] = CA[bh, n2, i197] * Q[bh, t2 + i197, j197]
                        XM0[bh, i197, j197] = CMO[bh, n2, i197] * Q[bh, t2 + i197, j197]
                    T.sync_threads()
                    for mi199 in T.serial(2):
                        for ni199 in T.serial(2):
                            T.clear(frag198)
                            for ki202 in T.Pipelined(8, num_stages=2):
                                T.copy(DZQ0[bh, 0 + mi199 * 32, ki202 * 32], shared200)
                                T.copy(W0_r[0 + ki202 * 32, ni199 * 32], shared201)
                                T.gemm(shared200, shared201, frag198, transpose_A=False, transpose_B=False)
                            for ii199, jj199 in T.Parallel(32, 32):
                                NDU[bh, (mi199 * 32 + ii199), (ni199 * 32 + jj199)] = frag198[ii199, jj199]
                    T.sync_threads()
                    for mi204 in T.serial(8):
                        for ni204 in T.serial(2):
                            for ii204, jj204 in T.Parallel(32, 32):
                                frag203[ii204, jj204] = DWN0[bh, (mi204 * 32 + ii204), (ni204 * 32 + jj204)]
                            for ki207 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ0[bh, 0 + ki207 * 32, mi204 * 32], shared205)
                                T.copy(XA0[bh, 0 + ki207 * 32, ni204 * 32], shared206)
                                T.gemm(shared205, shared206, frag203, transpose_A=True, transpose_B=False)
                            for ii204, jj204 in T.Parallel(32, 32):
                                DWN0[bh, (mi204 * 32 + ii204), (ni204 * 32 + jj204)] = frag203[ii204, jj204]
                    T.sync_threads()
                    for r208 in T.Parallel(64):
                        for c208 in T.serial(64):
                            DCA[bh, n2, r208] += NDU[bh, r208, c208] * Q[bh, t2 + r208, c208]
                    T.sync_threads()
                    for mi210 in T.serial(2):
                        for ni210 in T.serial(2):
                            T.clear(frag209)
                            for ki213 in T.Pipelined(8, num_stages=2):
                                T.copy(DZQ0[bh, 0 + mi210 * 32, ki213 * 32], shared211)
                                T.copy(S0[bh, 0 + ki213 * 32, ni210 * 32], shared212)
                                T.gemm(shared211, shared212, frag209, transpose_A=False, transpose_B=False)
                            for ii210, jj210 in T.Parallel(32, 32):
                                NDUS[bh, (mi210 * 32 + ii210), (ni210 * 32 + jj210)] = frag209[ii210, jj210]
                    T.sync_threads()
                    for mi215 in T.serial(8):
                        for ni215 in T.serial(2):
                            for ii215, jj215 in T.Parallel(32, 32):
                                frag214[ii215, jj215] = DSN0[bh, (mi215 * 32 + ii215), (ni215 * 32 + jj215)]
                            for ki218 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ0[bh, 0 + ki218 * 32, mi215 * 32], shared216)
                                T.copy(XM0[bh, 0 + ki218 * 32, ni215 * 32], shared217)
                                T.gemm(shared216, shared217, frag214, transpose_A=True, transpose_B=False)
                            for ii215, jj215 in T.Parallel(32, 32):
                                DSN0[bh, (mi215 * 32 + ii215), (ni215 * 32 + jj215)] = frag214[ii215, jj215]
                    T.sync_threads()
                    for r219 in T.Parallel(64):
                        for c219 in T.serial(64):
                            DCMO[bh, n2, r219] += NDUS[bh, r219, c219] * Q[bh, t2 + r219, c219]
                    T.sync_threads()
                    for i220, j220 in T.Parallel(64, 64):
                        DXQ0[bh, i220, j220] = CA[bh, n2, i220] * NDU[bh, i220, j220] + CMO[bh, n2, i220] * NDUS[bh, i220, j220]
                    T.sync_threads()
                    for mi222 in T.serial(2):
                        for ni222 in T.serial(2):
                            T.clear(frag221)
                            for ki225 in T.Pipelined(8, num_stages=2):
                                T.copy(DZQ0[bh, 0 + mi222 * 32, ki225 * 32], shared223)
                                T.copy(G0[bh, 0 + ni222 * 32, ki225 * 32], shared224)
                                T.gemm(shared223, shared224, frag221, transpose_A=False, transpose_B=True)
                            for ii222, jj222 in T.Parallel(32, 32):
                                DMIX[bh, (mi222 * 32 + ii222), (ni222 * 32 + jj222)] = frag221[ii222, jj222]
                    T.sync_threads()
                    for i226, j226 in T.Parallel(64, 64):
                        QKN[bh, i226, j226] = -CM[bh, n2, i226, j226] * QKR0[bh, i226, j226]
                        DCM[bh, n2, i226, j226] = DCM[bh, n2, i226, j226] - DMIX[bh, i226, j226] * QKR0[bh, i226, j226]
                        DQK[bh, i226, j226] = -CM[bh, n2, i226, j226] * DMIX[bh, i226, j226]
                    T.sync_threads()
                    for mi228 in T.serial(2):
                        for ni228 in T.serial(8):
                            for ii228, jj228 in T.Parallel(32, 32):
                                frag227[ii228, jj228] = DG0[bh, (mi228 * 32 + ii228), (ni228 * 32 + jj228)]
                            for ki231 in T.Pipelined(2, num_stages=2):
                                T.copy(QKN[bh, 0 + ki231 * 32, mi228 * 32], shared229)
                                T.copy(DZQ0[bh, 0 + ki231 * 32, ni228 * 32], shared230)
                                T.gemm(shared229, shared230, frag227, transpose_A=True, transpose_B=False)
                            for ii228, jj228 in T.Parallel(32, 32):
                                DG0[bh, (mi228 * 32 + ii228), (ni228 * 32 + jj228)] = frag227[ii228, jj228]
                    T.sync_threads()
                    for mi233 in T.serial(2):
                        for ni233 in T.serial(2):
                            for ii233, jj233 in T.Parallel(32, 32):
                                frag232[ii233, jj233] = DXQ0[bh, (mi233 * 32 + ii233), (ni233 * 32 + jj233)]
                            for ki236 in T.Pipelined(2, num_stages=2):
                                T.copy(DQK[bh, 0 + mi233 * 32, ki236 * 32], shared234)
                                T.copy(K[bh, t2 + ki236 * 32, ni233 * 32], shared235)
                                T.gemm(shared234, shared235, frag232, transpose_A=False, transpose_B=False)
                            for ii233, jj233 in T.Parallel(32, 32):
                                DXQ0[bh, (mi233 * 32 + ii233), (ni233 * 32 + jj233)] = frag232[ii233, jj233]
                    T.sync_threads()
                    for mi238 in T.serial(2):
                        for ni238 in T.serial(2):
                            for ii238, jj238 in T.Parallel(32, 32):
                                frag237[ii238, jj238] = DX0[bh, (mi238 * 32 + ii238), (ni238 * 32 + jj238)]
                            for ki241 in T.Pipelined(2, num_stages=2):
                                T.copy(DQK[bh, 0 + ki241 * 32, mi238 * 32], shared239)
                                T.copy(Q[bh, t2 + ki241 * 32, ni238 * 32], shared240)
                                T.gemm(shared239, shared240, frag237, transpose_A=True, transpose_B=False)
                            for ii238, jj238 in T.Parallel(32, 32):
                                DX0[bh, (mi238 * 32 + ii238), (ni238 * 32 + jj238)] = frag237[ii238, jj238]
                    T.sync_threads()
                    for i242, j242 in T.Parallel(64, 64):
                        DQ[bh, t2 + i242, j242] = DXQ0[bh, i242, j242]
                    T.sync_threads()
                    for i243, j243 in T.Parallel(64, 256):
                        DP0[bh, i243, j243] = DG0[bh, i243, j243] * (T.sigmoid(Z0[bh, i243, j243]) * (1.0 + Z0[bh, i243, j243] * (1.0 - T.sigmoid(Z0[bh, i243, j243]))))
                        DZK0[bh, i243, j243] = DG0[bh, i243, j243] * GWK1[bh, i243, j243] * (T.sigmoid(Z0[bh, i243, j243]) * (1.0 - T.sigmoid(Z0[bh, i243, j243])) * (Z0[bh, i243, j243] + 2.0 - 2.0 * Z0[bh, i243, j243] * T.sigmoid(Z0[bh, i243, j243])))
                    T.sync_threads()
                    for mi245 in T.serial(2):
                        for ni245 in T.serial(2):
                            for ii245, jj245 in T.Parallel(32, 32):
                                frag244[ii245, jj245] = DG1[bh, (mi245 * 32 + ii245), (ni245 * 32 + jj245)]
                            for ki248 in T.Pipelined(8, num_stages=2):
                                T.copy(DP0[bh, 0 + mi245 * 32, ki248 * 32], shared246)
                                T.copy(W1_r[0 + ni245 * 32, ki248 * 32], shared247)
                                T.gemm(shared246, shared247, frag244, transpose_A=False, transpose_B=True)
                            for ii245, jj245 in T.Parallel(32, 32):
                                DG1[bh, (mi245 * 32 + ii245), (ni245 * 32 + jj245)] = frag244[ii245, jj245]
                    T.sync_threads()
                    for mi250 in T.serial(2):
                        for ni250 in T.serial(8):
                            for ii250, jj250 in T.Parallel(32, 32):
                                frag249[ii250, jj250] = DKEY1[bh, (mi250 * 32 + ii250), (ni250 * 32 + jj250)]
                            for ki253 in T.Pipelined(2, num_stages=2):
                                T.copy(G1_r[0 + ki253 * 32, mi250 * 32], shared251)
                                T.copy(DP0[bh, 0 + ki253 * 32, ni250 * 32], shared252)
                                T.gemm(shared251, shared252, frag249, transpose_A=True, transpose_B=False)
                            for ii250, jj250 in T.Parallel(32, 32):
                                DKEY1[bh, (mi250 * 32 + ii250), (ni250 * 32 + jj250)] = frag249[ii250, jj250]
                    T.sync_threads()
                    for i254, j254 in T.Parallel(64, 64):
                        DZK1[bh, i254, j254] = DG1[bh, i254, j254]
                    T.sync_threads()
                    for i255, j255 in T.Parallel(64, 64):
                        DV[bh, t2 + i255, j255] = -DZK1[bh, i255, j255]
                    T.sync_threads()
                    for mi257 in T.serial(2):
                        for ni257 in T.serial(8):
                            for ii257, jj257 in T.Parallel(32, 32):
                                frag256[ii257, jj257] = DKEY1[bh, (mi257 * 32 + ii257), (ni257 * 32 + jj257)]
                            for ki260 in T.Pipelined(2, num_stages=2):
                                T.copy(DZK1[bh, 0 + ki260 * 32, mi257 * 32], shared258)
                                T.copy(X1[bh, 0 + ki260 * 32, ni257 * 32], shared259)
                                T.gemm(shared258, shared259, frag256, transpose_A=True, transpose_B=False)
                            for ii257, jj257 in T.Parallel(32, 32):
                                DKEY1[bh, (mi257 * 32 + ii257), (ni257 * 32 + jj257)] = frag256[ii257, jj257]
                    T.sync_threads()
                    for mi262 in T.serial(2):
                        for ni262 in T.serial(8):
                            for ii262, jj262 in T.Parallel(32, 32):
                                frag261[ii262, jj262] = DX1[bh, (mi262 * 32 + ii262), (ni262 * 32 + jj262)]
                            for ki265 in T.Pipelined(2, num_stages=2):
                                T.copy(DZK1[bh, 0 + mi262 * 32, ki265 * 32], shared263)
                                T.copy(W1_r[0 + ki265 * 32, ni262 * 32], shared264)
                                T.gemm(shared263, shared264, frag261, transpose_A=False, transpose_B=False)
                            for ii262, jj262 in T.Parallel(32, 32):
                                DX1[bh, (mi262 * 32 + ii262), (ni262 * 32 + jj262)] = frag261[ii262, jj262]
                    T.sync_threads()
                    for i266, j266 in T.Parallel(64, 256):
                        DWN1[bh, i266, j266] = DWN1[bh, i266, j266] + DKEY1[bh, i266, j266]
                    T.sync_threads()
                    for i267, j267 in T.Parallel(64, 256):
                        DZK0[bh, i267, j267] = DZK0[bh, i267, j267] + DX1[bh, i267, j267] * (T.sigmoid(Z0[bh, i267, j267]) * (1.0 + Z0[bh, i267, j267] * (1.0 - T.sigmoid(Z0[bh, i267, j267]))))
                    T.sync_threads()
                    for mi269 in T.serial(8):
                        for ni269 in T.serial(2):
                            for ii269, jj269 in T.Parallel(32, 32):
                                frag268[ii269, jj269] = DKEY0[bh, (mi269 * 32 + ii269), (ni269 * 32 + jj269)]
                            for ki272 in T.Pipelined(2, num_stages=2):
                                T.copy(DZK0[bh, 0 + ki272 * 32, mi269 * 32], shared270)
                                T.copy(K[bh, t2 + ki272 * 32, ni269 * 32], shared271)
                                T.gemm(shared270, shared271, frag268, transpose_A=True, transpose_B=False)
                            for ii269, jj269 in T.Parallel(32, 32):
                                DKEY0[bh, (mi269 * 32 + ii269), (ni269 * 32 + jj269)] = frag268[ii269, jj269]
                    T.sync_threads()
                    for mi274 in T.serial(2):
                        for ni274 in T.serial(2):
                            for ii274, jj274 in T.Parallel(32, 32):
                                frag273[ii274, jj274] = DX0[bh, (mi274 * 32 + ii274), (ni274 * 32 + jj274)]
                            for ki277 in T.Pipelined(8, num_stages=2):
                                T.copy(DZK0[bh, 0 + mi274 * 32, ki277 * 32], shared275)
                                T.copy(W0_r[0 + ki277 * 32, ni274 * 32], shared276)
                                T.gemm(shared275, shared276, frag273, transpose_A=False, transpose_B=False)
                            for ii274, jj274 in T.Parallel(32, 32):
                                DX0[bh, (mi274 * 32 + ii274), (ni274 * 32 + jj274)] = frag273[ii274, jj274]
                    T.sync_threads()
                    for i278, j278 in T.Parallel(256, 64):
                        DWN0[bh, i278, j278] = DWN0[bh, i278, j278] + DKEY0[bh, i278, j278]
                    T.sync_threads()
                    for i279, j279 in T.Parallel(64, 64):
                        DK[bh, t2 + i279, j279] = DX0[bh, i279, j279]
                    T.sync_threads()
                    for i280, j280 in T.Parallel(256, 64):
                        DW0[bh, i280, j280] = DWN0[bh, i280, j280]
                        DS0[bh, i280, j280] = DSN0[bh, i280, j280]
                    T.sync_threads()
                    for i281, j281 in T.Parallel(64, 256):
                        DW1[bh, i281, j281] = DWN1[bh, i281, j281]
                        DS1[bh, i281, j281] = DSN1[bh, i281, j281]
                    T.sync_threads()
        T.sync_threads()
        T.copy(W0_r, W0[bh, 0, 0])
        T.copy(W1_r, W1[bh, 0, 0])
        T.copy(G1_r, G1[bh, 0, 0])
        T.copy(DZQ1_r, DZQ1[bh, 0, 0])
