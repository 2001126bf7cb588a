"""Generated from rule 6b81f7aa599c3c1c: TileLang forward chunk loop (gpu, D=64, chunk=64). Do not edit."""
import tilelang.language as T

BH = T.dynamic("BH")
NC = T.dynamic("NC")
TP = T.dynamic("TP")
NG = T.dynamic("NG")


@T.prim_func
def titans_tl_fwd_6b81f7aa599c3c1c(
        Q: T.Tensor((BH, TP, 64), "float32"),
        K: T.Tensor((BH, TP, 64), "float32"),
        V: T.Tensor((BH, TP, 64), "float32"),
        O: T.Tensor((BH, TP, 64), "float32"),
        CM: T.Tensor((BH, NC, 64, 64), "float32"),
        CC: T.Tensor((BH, NC, 64), "float32"),
        CA: T.Tensor((BH, NC, 64), "float32"),
        CMO: T.Tensor((BH, NC, 64), "float32"),
        CW: T.Tensor((BH, NC, 64), "float32"),
        SC: T.Tensor((BH, NC, 3), "float32"),
        SLOT: T.Tensor((NC,), "int32"),
        W0: T.Tensor((BH, 256, 64), "float32"),
        CKW0: T.Tensor((BH, NG, 256, 64), "float32"),
        S0: T.Tensor((BH, 256, 64), "float32"),
        CKS0: T.Tensor((BH, NG, 256, 64), "float32"),
        A0: T.Tensor((BH, 256, 64), "float32"),
        WE0: T.Tensor((BH, 256, 64), "float32"),
        W1: T.Tensor((BH, 64, 256), "float32"),
        CKW1: T.Tensor((BH, NG, 64, 256), "float32"),
        S1: T.Tensor((BH, 64, 256), "float32"),
        CKS1: T.Tensor((BH, NG, 64, 256), "float32"),
        A1: T.Tensor((BH, 64, 256), "float32"),
        WE1: T.Tensor((BH, 64, 256), "float32"),
        Z0: T.Tensor((BH, 64, 256), "float32"),
        X1: T.Tensor((BH, 64, 256), "float32"),
        XQ1: T.Tensor((BH, 64, 256), "float32"),
        G0: T.Tensor((BH, 64, 256), "float32"),
        Y0: T.Tensor((BH, 64, 64), "float32"),
        YW0: T.Tensor((BH, 64, 64), "float32"),
        G1: T.Tensor((BH, 64, 64), "float32"),
        Y1: T.Tensor((BH, 64, 256), "float32"),
        YW1: T.Tensor((BH, 64, 256), "float32"),
        QK: T.Tensor((BH, 64, 64), "float32"),
        KAP: T.Tensor((BH, 64), "float32"),
        RR: T.Tensor((BH, 64), "float32"),
        RM: T.Tensor((BH, 64), "float32"),
        CSQ: T.Tensor((BH, 256), "float32"),
        GR0: T.Tensor((BH, 64, 64), "float32"),
        GR1: T.Tensor((BH, 64, 64), "float32"),
        RDN: T.Tensor((BH, 64), "float32"),
        LAM: T.Tensor((BH, 2), "float32")):
    with T.Kernel(BH, threads=128) as bh:
        frag5 = T.alloc_fragment((32, 32), "float32")
        shared7 = T.alloc_shared((32, 32), "float32")
        shared8 = T.alloc_shared((32, 32), "float32")
        frag12 = T.alloc_fragment((32, 32), "float32")
        shared14 = T.alloc_shared((32, 32), "float32")
        shared15 = T.alloc_shared((32, 32), "float32")
        frag23 = T.alloc_fragment((32, 32), "float32")
        shared25 = T.alloc_shared((32, 32), "float32")
        shared26 = T.alloc_shared((32, 32), "float32")
        frag34 = T.alloc_fragment((32, 32), "float32")
        shared36 = T.alloc_shared((32, 32), "float32")
        shared37 = T.alloc_shared((32, 32), "float32")
        frag45 = T.alloc_fragment((32, 32), "float32")
        shared47 = T.alloc_shared((32, 32), "float32")
        shared48 = T.alloc_shared((32, 32), "float32")
        frag56 = T.alloc_fragment((32, 32), "float32")
        shared58 = T.alloc_shared((32, 32), "float32")
        shared59 = T.alloc_shared((32, 32), "float32")
        frag75 = T.alloc_fragment((32, 32), "float32")
        shared77 = T.alloc_shared((32, 32), "float32")
        shared78 = T.alloc_shared((32, 32), "float32")
        frag80 = T.alloc_fragment((32, 32), "float32")
        shared82 = T.alloc_shared((32, 32), "float32")
        shared83 = T.alloc_shared((32, 32), "float32")
        frag85 = T.alloc_fragment((32, 32), "float32")
        shared87 = T.alloc_shared((32, 32), "float32")
        shared88 = T.alloc_shared((32, 32), "float32")
        frag90 = T.alloc_fragment((32, 32), "float32")
        frag91 = T.alloc_fragment((32, 32), "float32")
        shared93 = T.alloc_shared((32, 32), "float32")
        shared94 = T.alloc_shared((32, 32), "float32")
        shared96 = T.alloc_shared((32, 32), "float32")
        shared97 = T.alloc_shared((32, 32), "float32")
        shared99 = T.alloc_shared((32, 32), "float32")
        shared100 = T.alloc_shared((32, 32), "float32")
        shared102 = T.alloc_shared((32, 32), "float32")
        shared103 = T.alloc_shared((32, 32), "float32")
        frag105 = T.alloc_fragment((32, 32), "float32")
        shared107 = T.alloc_shared((32, 32), "float32")
        shared108 = T.alloc_shared((32, 32), "float32")
        frag110 = T.alloc_fragment((32, 32), "float32")
        frag111 = T.alloc_fragment((32, 32), "float32")
        shared113 = T.alloc_shared((32, 32), "float32")
        shared114 = T.alloc_shared((32, 32), "float32")
        shared116 = T.alloc_shared((32, 32), "float32")
        shared117 = T.alloc_shared((32, 32), "float32")
        shared119 = T.alloc_shared((32, 32), "float32")
        shared120 = T.alloc_shared((32, 32), "float32")
        shared122 = T.alloc_shared((32, 32), "float32")
        shared123 = T.alloc_shared((32, 32), "float32")
        frag126 = T.alloc_fragment((32, 32), "float32")
        shared128 = T.alloc_shared((32, 32), "float32")
        shared129 = T.alloc_shared((32, 32), "float32")
        frag131 = T.alloc_fragment((32, 32), "float32")
        shared133 = T.alloc_shared((32, 32), "float32")
        shared134 = T.alloc_shared((32, 32), "float32")
        frag137 = T.alloc_fragment((32, 32), "float32")
        shared139 = T.alloc_shared((32, 32), "float32")
        shared140 = T.alloc_shared((32, 32), "float32")
        frag142 = T.alloc_fragment((32, 32), "float32")
        shared144 = T.alloc_shared((32, 32), "float32")
        shared145 = T.alloc_shared((32, 32), "float32")
        for n in T.serial(NC):
            t0 = n * 64
            if SLOT[n] >= 0:
                for i1, j1 in T.Parallel(256, 64):
                    CKW0[bh, SLOT[n], i1, j1] = W0[bh, i1, j1]
                    CKS0[bh, SLOT[n], i1, j1] = S0[bh, i1, j1]
                T.sync_threads()
                for i2, j2 in T.Parallel(64, 256):
                    CKW1[bh, SLOT[n], i2, j2] = W1[bh, i2, j2]
                    CKS1[bh, SLOT[n], i2, j2] = S1[bh, i2, j2]
                T.sync_threads()
            for i3, j3 in T.Parallel(256, 64):
                WE0[bh, i3, j3] = W0[bh, i3, j3] + A0[bh, i3, j3]
            T.sync_threads()
            for i4, j4 in T.Parallel(64, 256):
                WE1[bh, i4, j4] = W1[bh, i4, j4] + A1[bh, i4, j4]
            T.sync_threads()
            for mi6 in T.serial(2):
                for ni6 in T.serial(8):
                    T.clear(frag5)
                    for ki9 in T.Pipelined(2, num_stages=2):
                        T.copy(K[bh, t0 + mi6 * 32, ki9 * 32], shared7)
                        T.copy(WE0[bh, 0 + ni6 * 32, ki9 * 32], shared8)
                        T.gemm(shared7, shared8, frag5, transpose_A=False, transpose_B=True)
                    for ii6, jj6 in T.Parallel(32, 32):
                        Z0[bh, (mi6 * 32 + ii6), (ni6 * 32 + jj6)] = frag5[ii6, jj6]
                        X1[bh, (mi6 * 32 + ii6), (ni6 * 32 + jj6)] = (frag5[ii6, jj6] * T.sigmoid(frag5[ii6, jj6]))
            T.sync_threads()
            for i10, j10 in T.Parallel(1, 64):
                KAP[bh, j10] = 0.0
            T.sync_threads()
            for r11 in T.Parallel(64):
                for c11 in T.serial(64):
                    KAP[bh, r11] += K[bh, t0 + r11, c11] * K[bh, t0 + r11, c11]
            T.sync_threads()
            for mi13 in T.serial(2):
                for ni13 in T.serial(2):
                    T.clear(frag12)
                    for ki16 in T.Pipelined(8, num_stages=2):
                        T.copy(WE1[bh, 0 + mi13 * 32, ki16 * 32], shared14)
                        T.copy(WE1[bh, 0 + ni13 * 32, ki16 * 32], shared15)
                        T.gemm(shared14, shared15, frag12, transpose_A=False, transpose_B=True)
                    for ii13, jj13 in T.Parallel(32, 32):
                        GR0[bh, (mi13 * 32 + ii13), (ni13 * 32 + jj13)] = frag12[ii13, jj13]
            T.sync_threads()
            for i17, j17 in T.Parallel(1, 1):
                LAM[bh, 0] = 0.0
            T.sync_threads()
            for i18, j18 in T.Parallel(1, 64):
                RDN[bh, j18] = 0.0
            T.sync_threads()
            for r19 in T.Parallel(64):
                for c19 in T.serial(64):
                    RDN[bh, r19] += GR0[bh, r19, c19] * GR0[bh, r19, c19]
            T.sync_threads()
            for z20 in T.Parallel(1):
                for r20 in T.serial(64):
                    LAM[bh, 0] += RDN[bh, r20]
            T.sync_threads()
            for i21, j21 in T.Parallel(1, 1):
                LAM[bh, 1] = T.log(T.max(T.sqrt(LAM[bh, 0]), 1e-30))
            T.sync_threads()
            for i22, j22 in T.Parallel(64, 64):
                GR0[bh, i22, j22] = GR0[bh, i22, j22] / T.max(T.sqrt(LAM[bh, 0]), 1e-30)
            T.sync_threads()
            for mi24 in T.serial(2):
                for ni24 in T.serial(2):
                    T.clear(frag23)
                    for ki27 in T.Pipelined(2, num_stages=2):
                        T.copy(GR0[bh, 0 + mi24 * 32, ki27 * 32], shared25)
                        T.copy(GR0[bh, 0 + ki27 * 32, ni24 * 32], shared26)
                        T.gemm(shared25, shared26, frag23, transpose_A=False, transpose_B=False)
                    for ii24, jj24 in T.Parallel(32, 32):
                        GR1[bh, (mi24 * 32 + ii24), (ni24 * 32 + jj24)] = frag23[ii24, jj24]
            T.sync_threads()
            for i28, j28 in T.Parallel(1, 1):
                LAM[bh, 0] = 0.0
            T.sync_threads()
            for i29, j29 in T.Parallel(1, 64):
                RDN[bh, j29] = 0.0
            T.sync_threads()
            for r30 in T.Parallel(64):
                for c30 in T.serial(64):
                    RDN[bh, r30] += GR1[bh, r30, c30] * GR1[bh, r30, c30]
            T.sync_threads()
            for z31 in T.Parallel(1):
                for r31 in T.serial(64):
                    LAM[bh, 0] += RDN[bh, r31]
            T.sync_threads()
            for i32, j32 in T.Parallel(1, 1):
                LAM[bh, 1] = LAM[bh, 1] + T.log(T.max(T.sqrt(LAM[bh, 0]), 1e-30)) / 2.0
            T.sync_threads()
            for i33, j33 in T.Parallel(64, 64):
                GR1[bh, i33, j33] = GR1[bh, i33, j33] / T.max(T.sqrt(LAM[bh, 0]), 1e-30)
            T.sync_threads()
            for mi35 in T.serial(2):
                for ni35 in T.serial(2):
                    T.clear(frag34)
                    for ki38 in T.Pipelined(2, num_stages=2):
                        T.copy(GR1[bh, 0 + mi35 * 32, ki38 * 32], shared36)
                        T.copy(GR1[bh, 0 + ki38 * 32, ni35 * 32], shared37)
                        T.gemm(shared36, shared37, frag34, transpose_A=False, transpose_B=False)
                    for ii35, jj35 in T.Parallel(32, 32):
                        GR0[bh, (mi35 * 32 + ii35), (ni35 * 32 + jj35)] = frag34[ii35, jj35]
            T.sync_threads()
            for i39, j39 in T.Parallel(1, 1):
                LAM[bh, 0] = 0.0
            T.sync_threads()
            for i40, j40 in T.Parallel(1, 64):
                RDN[bh, j40] = 0.0
            T.sync_threads()
            for r41 in T.Parallel(64):
                for c41 in T.serial(64):
                    RDN[bh, r41] += GR0[bh, r41, c41] * GR0[bh, r41, c41]
            T.sync_threads()
            for z42 in T.Parallel(1):
                for r42 in T.serial(64):
                    LAM[bh, 0] += RDN[bh, r42]
            T.sync_threads()
            for i43, j43 in T.Parallel(1, 1):
                LAM[bh, 1] = LAM[bh, 1] + T.log(T.max(T.sqrt(LAM[bh, 0]), 1e-30)) / 4.0
            T.sync_threads()
            for i44, j44 in T.Parallel(64, 64):
                GR0[bh, i44, j44] = GR0[bh, i44, j44] / T.max(T.sqrt(LAM[bh, 0]), 1e-30)
            T.sync_threads()
            for mi46 in T.serial(2):
                for ni46 in T.serial(2):
                    T.clear(frag45)
                    for ki49 in T.Pipelined(2, num_stages=2):
                        T.copy(GR0[bh, 0 + mi46 * 32, ki49 * 32], shared47)
                        T.copy(GR0[bh, 0 + ki49 * 32, ni46 * 32], shared48)
                        T.gemm(shared47, shared48, frag45, transpose_A=False, transpose_B=False)
                    for ii46, jj46 in T.Parallel(32, 32):
                        GR1[bh, (mi46 * 32 + ii46), (ni46 * 32 + jj46)] = frag45[ii46, jj46]
            T.sync_threads()
            for i50, j50 in T.Parallel(1, 1):
                LAM[bh, 0] = 0.0
            T.sync_threads()
            for i51, j51 in T.Parallel(1, 64):
                RDN[bh, j51] = 0.0
            T.sync_threads()
            for r52 in T.Parallel(64):
                for c52 in T.serial(64):
                    RDN[bh, r52] += GR1[bh, r52, c52] * GR1[bh, r52, c52]
            T.sync_threads()
            for z53 in T.Parallel(1):
                for r53 in T.serial(64):
                    LAM[bh, 0] += RDN[bh, r53]
            T.sync_threads()
            for i54, j54 in T.Parallel(1, 1):
                LAM[bh, 1] = LAM[bh, 1] + T.log(T.max(T.sqrt(LAM[bh, 0]), 1e-30)) / 8.0
            T.sync_threads()
            for i55, j55 in T.Parallel(64, 64):
                GR1[bh, i55, j55] = GR1[bh, i55, j55] / T.max(T.sqrt(LAM[bh, 0]), 1e-30)
            T.sync_threads()
            for mi57 in T.serial(2):
                for ni57 in T.serial(2):
                    T.clear(frag56)
                    for ki60 in T.Pipelined(2, num_stages=2):
                        T.copy(GR1[bh, 0 + mi57 * 32, ki60 * 32], shared58)
                        T.copy(GR1[bh, 0 + ki60 * 32, ni57 * 32], shared59)
                        T.gemm(shared58, shared59, frag56, transpose_A=False, transpose_B=False)
                    for ii57, jj57 in T.Parallel(32, 32):
                        GR0[bh, (mi57 * 32 + ii57), (ni57 * 32 + jj57)] = frag56[ii57, jj57]
            T.sync_threads()
            for i61, j61 in T.Parallel(1, 1):
                LAM[bh, 0] = 0.0
            T.sync_threads()
            for i62, j62 in T.Parallel(1, 64):
                RDN[bh, j62] = 0.0
            T.sync_threads()
            for r63 in T.Parallel(64):
                for c63 in T.serial(64):
                    RDN[bh, r63] += GR0[bh, r63, c63] * GR0[bh, r63, c63]
            T.sync_threads()
            for z64 in T.Parallel(1):
                for r64 in T.serial(64):
                    LAM[bh, 0] += RDN[bh, r64]
            T.sync_threads()
            for i65, j65 in T.Parallel(1, 1):
                LAM[bh, 1] = LAM[bh, 1] + T.log(T.max(T.sqrt(LAM[bh, 0]), 1e-30)) / 16.0
            T.sync_threads()
            for i66, j66 in T.Parallel(1, 1):
                LAM[bh, 1] = T.exp(LAM[bh, 1])
            T.sync_threads()
            for i67, j67 in T.Parallel(1, 256):
                CSQ[bh, j67] = 0.0
            T.sync_threads()
            for r68 in T.Parallel(256):
                for c68 in T.serial(64):
                    CSQ[bh, r68] += WE1[bh, c68, r68] * WE1[bh, c68, r68]
            T.sync_threads()
            for i69, j69 in T.Parallel(1, 64):
                RR[bh, j69] = 0.0
                RM[bh, j69] = 0.0
            T.sync_threads()
            for r70 in T.Parallel(64):
                for c70 in T.serial(256):
                    RR[bh, r70] += (T.sigmoid(Z0[bh, r70, c70]) * (1.0 + Z0[bh, r70, c70] * (1.0 - T.sigmoid(Z0[bh, r70, c70])))) * (T.sigmoid(Z0[bh, r70, c70]) * (1.0 + Z0[bh, r70, c70] * (1.0 - T.sigmoid(Z0[bh, r70, c70])))) * CSQ[bh, c70]
            T.sync_threads()
            for r71 in T.Parallel(64):
                for c71 in T.serial(256):
                    RM[bh, r71] = T.max(RM[bh, r71], (T.sigmoid(Z0[bh, r71, c71]) * (1.0 + Z0[bh, r71, c71] * (1.0 - T.sigmoid(Z0[bh, r71, c71])))) * (T.sigmoid(Z0[bh, r71, c71]) * (1.0 + Z0[bh, r71, c71] * (1.0 - T.sigmoid(Z0[bh, r71, c71])))))
            T.sync_threads()
            for i72, j72 in T.Parallel(1, 64):
                KAP[bh, j72] = KAP[bh, j72] * T.min(RR[bh, j72], LAM[bh, 1] * RM[bh, j72])
            T.sync_threads()
            for r73 in T.Parallel(64):
                for c73 in T.serial(256):
                    KAP[bh, r73] += X1[bh, r73, c73] * X1[bh, r73, c73]
            T.sync_threads()
            for i74, j74 in T.Parallel(1, 64):
                KAP[bh, j74] = 1.0 / T.max(KAP[bh, j74], 1.0)
            T.sync_threads()
            for mi76 in T.serial(2):
                for ni76 in T.serial(2):
                    T.clear(frag75)
                    for ki79 in T.Pipelined(8, num_stages=2):
                        T.copy(X1[bh, 0 + mi76 * 32, ki79 * 32], shared77)
                        T.copy(WE1[bh, 0 + ni76 * 32, ki79 * 32], shared78)
                        T.gemm(shared77, shared78, frag75, transpose_A=False, transpose_B=True)
                    for ii76, jj76 in T.Parallel(32, 32):
                        G1[bh, (mi76 * 32 + ii76), (ni76 * 32 + jj76)] = (frag75[ii76, jj76] - V[bh, t0 + (mi76 * 32 + ii76), (ni76 * 32 + jj76)]) * KAP[bh, (mi76 * 32 + ii76)]
            T.sync_threads()
            for mi81 in T.serial(2):
                for ni81 in T.serial(8):
                    T.clear(frag80)
                    for ki84 in T.Pipelined(2, num_stages=2):
                        T.copy(G1[bh, 0 + mi81 * 32, ki84 * 32], shared82)
                        T.copy(WE1[bh, 0 + ki84 * 32, ni81 * 32], shared83)
                        T.gemm(shared82, shared83, frag80, transpose_A=False, transpose_B=False)
                    for ii81, jj81 in T.Parallel(32, 32):
                        G0[bh, (mi81 * 32 + ii81), (ni81 * 32 + jj81)] = frag80[ii81, jj81] * (T.sigmoid(Z0[bh, (mi81 * 32 + ii81), (ni81 * 32 + jj81)]) * (1.0 + Z0[bh, (mi81 * 32 + ii81), (ni81 * 32 + jj81)] * (1.0 - T.sigmoid(Z0[bh, (mi81 * 32 + ii81), (ni81 * 32 + jj81)]))))
            T.sync_threads()
            for mi86 in T.serial(2):
                for ni86 in T.serial(2):
                    T.clear(frag85)
                    for ki89 in T.Pipelined(2, num_stages=2):
                        T.copy(Q[bh, t0 + mi86 * 32, ki89 * 32], shared87)
                        T.copy(K[bh, t0 + ni86 * 32, ki89 * 32], shared88)
                        T.gemm(shared87, shared88, frag85, transpose_A=False, transpose_B=True)
                    for ii86, jj86 in T.Parallel(32, 32):
                        QK[bh, (mi86 * 32 + ii86), (ni86 * 32 + jj86)] = -CM[bh, n, (mi86 * 32 + ii86), (ni86 * 32 + jj86)] * frag85[ii86, jj86]
            T.sync_threads()
            for mi92 in T.serial(2):
                for ni92 in T.serial(8):
                    T.clear(frag90)
                    T.clear(frag91)
                    for ki95 in T.Pipelined(2, num_stages=2):
                        T.copy(Q[bh, t0 + mi92 * 32, ki95 * 32], shared93)
                        T.copy(W0[bh, 0 + ni92 * 32, ki95 * 32], shared94)
                        T.gemm(shared93, shared94, frag91, transpose_A=False, transpose_B=True)
                    for ii92, jj92 in T.Parallel(32, 32):
                        frag90[ii92, jj92] += CA[bh, n, (mi92 * 32 + ii92)] * frag91[ii92, jj92]
                    T.clear(frag91)
                    for ki98 in T.Pipelined(2, num_stages=2):
                        T.copy(Q[bh, t0 + mi92 * 32, ki98 * 32], shared96)
                        T.copy(S0[bh, 0 + ni92 * 32, ki98 * 32], shared97)
                        T.gemm(shared96, shared97, frag91, transpose_A=False, transpose_B=True)
                    for ii92, jj92 in T.Parallel(32, 32):
                        frag90[ii92, jj92] += CMO[bh, n, (mi92 * 32 + ii92)] * frag91[ii92, jj92]
                    for ki101 in T.Pipelined(2, num_stages=2):
                        T.copy(QK[bh, 0 + mi92 * 32, ki101 * 32], shared99)
                        T.copy(G0[bh, 0 + ki101 * 32, ni92 * 32], shared100)
                        T.gemm(shared99, shared100, frag90, transpose_A=False, transpose_B=False)
                    for ki104 in T.Pipelined(2, num_stages=2):
                        T.copy(Q[bh, t0 + mi92 * 32, ki104 * 32], shared102)
                        T.copy(A0[bh, 0 + ni92 * 32, ki104 * 32], shared103)
                        T.gemm(shared102, shared103, frag90, transpose_A=False, transpose_B=True)
                    for ii92, jj92 in T.Parallel(32, 32):
                        XQ1[bh, (mi92 * 32 + ii92), (ni92 * 32 + jj92)] = (frag90[ii92, jj92] * T.sigmoid(frag90[ii92, jj92]))
            T.sync_threads()
            for mi106 in T.serial(2):
                for ni106 in T.serial(2):
                    T.clear(frag105)
                    for ki109 in T.Pipelined(8, num_stages=2):
                        T.copy(XQ1[bh, 0 + mi106 * 32, ki109 * 32], shared107)
                        T.copy(X1[bh, 0 + ni106 * 32, ki109 * 32], shared108)
                        T.gemm(shared107, shared108, frag105, transpose_A=False, transpose_B=True)
                    for ii106, jj106 in T.Parallel(32, 32):
                        QK[bh, (mi106 * 32 + ii106), (ni106 * 32 + jj106)] = -CM[bh, n, (mi106 * 32 + ii106), (ni106 * 32 + jj106)] * frag105[ii106, jj106]
            T.sync_threads()
            for mi112 in T.serial(2):
                for ni112 in T.serial(2):
                    T.clear(frag110)
                    T.clear(frag111)
                    for ki115 in T.Pipelined(8, num_stages=2):
                        T.copy(XQ1[bh, 0 + mi112 * 32, ki115 * 32], shared113)
                        T.copy(W1[bh, 0 + ni112 * 32, ki115 * 32], shared114)
                        T.gemm(shared113, shared114, frag111, transpose_A=False, transpose_B=True)
                    for ii112, jj112 in T.Parallel(32, 32):
                        frag110[ii112, jj112] += CA[bh, n, (mi112 * 32 + ii112)] * frag111[ii112, jj112]
                    T.clear(frag111)
                    for ki118 in T.Pipelined(8, num_stages=2):
                        T.copy(XQ1[bh, 0 + mi112 * 32, ki118 * 32], shared116)
                        T.copy(S1[bh, 0 + ni112 * 32, ki118 * 32], shared117)
                        T.gemm(shared116, shared117, frag111, transpose_A=False, transpose_B=True)
                    for ii112, jj112 in T.Parallel(32, 32):
                        frag110[ii112, jj112] += CMO[bh, n, (mi112 * 32 + ii112)] * frag111[ii112, jj112]
                    for ki121 in T.Pipelined(2, num_stages=2):
                        T.copy(QK[bh, 0 + mi112 * 32, ki121 * 32], shared119)
                        T.copy(G1[bh, 0 + ki121 * 32, ni112 * 32], shared120)
                        T.gemm(shared119, shared120, frag110, transpose_A=False, transpose_B=False)
                    for ki124 in T.Pipelined(8, num_stages=2):
                        T.copy(XQ1[bh, 0 + mi112 * 32, ki124 * 32], shared122)
                        T.copy(A1[bh, 0 + ni112 * 32, ki124 * 32], shared123)
                        T.gemm(shared122, shared123, frag110, transpose_A=False, transpose_B=True)
                    for ii112, jj112 in T.Parallel(32, 32):
                        O[bh, t0 + (mi112 * 32 + ii112), (ni112 * 32 + jj112)] = frag110[ii112, jj112]
            T.sync_threads()
            for i125, j125 in T.Parallel(64, 64):
                Y0[bh, i125, j125] = -CC[bh, n, i125] * K[bh, t0 + i125, j125]
                YW0[bh, i125, j125] = -CW[bh, n, i125] * K[bh, t0 + i125, j125]
            T.sync_threads()
            for mi127 in T.serial(8):
                for ni127 in T.serial(2):
                    for ii127, jj127 in T.Parallel(32, 32):
                        frag126[ii127, jj127] = W0[bh, (mi127 * 32 + ii127), (ni127 * 32 + jj127)] * SC[bh, n, 0] + SC[bh, n, 1] * S0[bh, (mi127 * 32 + ii127), (ni127 * 32 + jj127)]
                    for ki130 in T.Pipelined(2, num_stages=2):
                        T.copy(G0[bh, 0 + ki130 * 32, mi127 * 32], shared128)
                        T.copy(Y0[bh, 0 + ki130 * 32, ni127 * 32], shared129)
                        T.gemm(shared128, shared129, frag126, transpose_A=True, transpose_B=False)
                    for ii127, jj127 in T.Parallel(32, 32):
                        W0[bh, (mi127 * 32 + ii127), (ni127 * 32 + jj127)] = frag126[ii127, jj127]
            T.sync_threads()
            for mi132 in T.serial(8):
                for ni132 in T.serial(2):
                    for ii132, jj132 in T.Parallel(32, 32):
                        frag131[ii132, jj132] = SC[bh, n, 2] * S0[bh, (mi132 * 32 + ii132), (ni132 * 32 + jj132)]
                    for ki135 in T.Pipelined(2, num_stages=2):
                        T.copy(G0[bh, 0 + ki135 * 32, mi132 * 32], shared133)
                        T.copy(YW0[bh, 0 + ki135 * 32, ni132 * 32], shared134)
                        T.gemm(shared133, shared134, frag131, transpose_A=True, transpose_B=False)
                    for ii132, jj132 in T.Parallel(32, 32):
                        S0[bh, (mi132 * 32 + ii132), (ni132 * 32 + jj132)] = frag131[ii132, jj132]
            T.sync_threads()
            for i136, j136 in T.Parallel(64, 256):
                Y1[bh, i136, j136] = -CC[bh, n, i136] * X1[bh, 0 + i136, j136]
                YW1[bh, i136, j136] = -CW[bh, n, i136] * X1[bh, 0 + i136, j136]
            T.sync_threads()
            for mi138 in T.serial(2):
                for ni138 in T.serial(8):
                    for ii138, jj138 in T.Parallel(32, 32):
                        frag137[ii138, jj138] = W1[bh, (mi138 * 32 + ii138), (ni138 * 32 + jj138)] * SC[bh, n, 0] + SC[bh, n, 1] * S1[bh, (mi138 * 32 + ii138), (ni138 * 32 + jj138)]
                    for ki141 in T.Pipelined(2, num_stages=2):
                        T.copy(G1[bh, 0 + ki141 * 32, mi138 * 32], shared139)
                        T.copy(Y1[bh, 0 + ki141 * 32, ni138 * 32], shared140)
                        T.gemm(shared139, shared140, frag137, transpose_A=True, transpose_B=False)
                    for ii138, jj138 in T.Parallel(32, 32):
                        W1[bh, (mi138 * 32 + ii138), (ni138 * 32 + jj138)] = frag137[ii138, jj138]
            T.sync_threads()
            for mi143 in T.serial(2):
                for ni143 in T.serial(8):
                    for ii143, jj143 in T.Parallel(32, 32):
                        frag142[ii143, jj143] = SC[bh, n, 2] * S1[bh, (mi143 * 32 + ii143), (ni143 * 32 + jj143)]
                    for ki146 in T.Pipelined(2, num_stages=2):
                        T.copy(G1[bh, 0 + ki146 * 32, mi143 * 32], shared144)
                        T.copy(YW1[bh, 0 + ki146 * 32, ni143 * 32], shared145)
                        T.gemm(shared144, shared145, frag142, transpose_A=True, transpose_B=False)
                    for ii143, jj143 in T.Parallel(32, 32):
                        S1[bh, (mi143 * 32 + ii143), (ni143 * 32 + jj143)] = frag142[ii143, jj143]
            T.sync_threads()
