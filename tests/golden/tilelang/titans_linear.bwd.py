"""Generated from rule a490a659cb11fddb: TileLang backward (gpu, D=64, chunk=64). Do not edit."""
import tilelang.language as T

BH = T.dynamic("BH")
NC = T.dynamic("NC")
TP = T.dynamic("TP")
NG = T.dynamic("NG")
GM = T.dynamic("GM")


@T.prim_func
def titans_tl_bwd_a490a659cb11fddb(
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
        W0: T.Tensor((BH, 64, 64), "float32"),
        CKW0: T.Tensor((BH, NG, 64, 64), "float32"),
        GSTW0: T.Tensor((BH, GM, 64, 64), "float32"),
        DW0: T.Tensor((BH, 64, 64), "float32"),
        DWN0: T.Tensor((BH, 64, 64), "float32"),
        DKEY0: T.Tensor((BH, 64, 64), "float32"),
        S0: T.Tensor((BH, 64, 64), "float32"),
        CKS0: T.Tensor((BH, NG, 64, 64), "float32"),
        GSTS0: T.Tensor((BH, GM, 64, 64), "float32"),
        DS0: T.Tensor((BH, 64, 64), "float32"),
        DSN0: T.Tensor((BH, 64, 64), "float32"),
        G0: T.Tensor((BH, 64, 64), "float32"),
        Y0: T.Tensor((BH, 64, 64), "float32"),
        DG0: T.Tensor((BH, 64, 64), "float32"),
        DX0: T.Tensor((BH, 64, 64), "float32"),
        DZQ0: T.Tensor((BH, 64, 64), "float32"),
        DXQ0: T.Tensor((BH, 64, 64), "float32"),
        DZK0: T.Tensor((BH, 64, 64), "float32"),
        XA0: T.Tensor((BH, 64, 64), "float32"),
        YW0: T.Tensor((BH, 64, 64), "float32"),
        XM0: T.Tensor((BH, 64, 64), "float32"),
        QKR0: T.Tensor((BH, 64, 64), "float32"),
        NDU: T.Tensor((BH, 64, 64), "float32"),
        NDUS: T.Tensor((BH, 64, 64), "float32"),
        RD: T.Tensor((BH, 64), "float32"),
        QK: T.Tensor((BH, 64, 64), "float32"),
        QKN: T.Tensor((BH, 64, 64), "float32"),
        DMIX: T.Tensor((BH, 64, 64), "float32"),
        DQK: T.Tensor((BH, 64, 64), "float32")):
    with T.Kernel(BH, threads=128) as bh:
        frag3 = T.alloc_fragment((32, 32), "float32")
        shared5 = T.alloc_shared((32, 32), "float32")
        shared6 = T.alloc_shared((32, 32), "float32")
        frag9 = T.alloc_fragment((32, 32), "float32")
        shared11 = T.alloc_shared((32, 32), "float32")
        shared12 = T.alloc_shared((32, 32), "float32")
        frag14 = T.alloc_fragment((32, 32), "float32")
        shared16 = T.alloc_shared((32, 32), "float32")
        shared17 = T.alloc_shared((32, 32), "float32")
        frag20 = T.alloc_fragment((32, 32), "float32")
        shared22 = T.alloc_shared((32, 32), "float32")
        shared23 = T.alloc_shared((32, 32), "float32")
        frag25 = T.alloc_fragment((32, 32), "float32")
        shared27 = T.alloc_shared((32, 32), "float32")
        shared28 = T.alloc_shared((32, 32), "float32")
        frag45 = T.alloc_fragment((32, 32), "float32")
        shared47 = T.alloc_shared((32, 32), "float32")
        shared48 = T.alloc_shared((32, 32), "float32")
        shared50 = T.alloc_shared((32, 32), "float32")
        shared51 = T.alloc_shared((32, 32), "float32")
        frag53 = T.alloc_fragment((32, 32), "float32")
        shared55 = T.alloc_shared((32, 32), "float32")
        shared56 = T.alloc_shared((32, 32), "float32")
        frag59 = T.alloc_fragment((32, 32), "float32")
        shared61 = T.alloc_shared((32, 32), "float32")
        shared62 = T.alloc_shared((32, 32), "float32")
        frag68 = T.alloc_fragment((32, 32), "float32")
        shared70 = T.alloc_shared((32, 32), "float32")
        shared71 = T.alloc_shared((32, 32), "float32")
        frag73 = T.alloc_fragment((32, 32), "float32")
        shared75 = T.alloc_shared((32, 32), "float32")
        shared76 = T.alloc_shared((32, 32), "float32")
        frag79 = T.alloc_fragment((32, 32), "float32")
        shared81 = T.alloc_shared((32, 32), "float32")
        shared82 = T.alloc_shared((32, 32), "float32")
        frag84 = T.alloc_fragment((32, 32), "float32")
        shared86 = T.alloc_shared((32, 32), "float32")
        shared87 = T.alloc_shared((32, 32), "float32")
        frag91 = T.alloc_fragment((32, 32), "float32")
        shared93 = T.alloc_shared((32, 32), "float32")
        shared94 = T.alloc_shared((32, 32), "float32")
        frag97 = T.alloc_fragment((32, 32), "float32")
        shared99 = T.alloc_shared((32, 32), "float32")
        shared100 = T.alloc_shared((32, 32), "float32")
        frag102 = T.alloc_fragment((32, 32), "float32")
        shared104 = T.alloc_shared((32, 32), "float32")
        shared105 = T.alloc_shared((32, 32), "float32")
        frag107 = T.alloc_fragment((32, 32), "float32")
        shared109 = T.alloc_shared((32, 32), "float32")
        shared110 = T.alloc_shared((32, 32), "float32")
        frag115 = T.alloc_fragment((32, 32), "float32")
        shared117 = T.alloc_shared((32, 32), "float32")
        shared118 = T.alloc_shared((32, 32), "float32")
        frag120 = T.alloc_fragment((32, 32), "float32")
        shared122 = T.alloc_shared((32, 32), "float32")
        shared123 = T.alloc_shared((32, 32), "float32")
        for gi in T.serial(NG):
            g = NG - 1 - gi
            for i1, j1 in T.Parallel(64, 64):
                W0[bh, i1, j1] = CKW0[bh, g, i1, j1]
                S0[bh, i1, j1] = CKS0[bh, g, i1, j1]
            T.sync_threads()
            for m1 in T.serial(NC):
                if m1 >= GLO[g] and m1 < GHI[g]:
                    t1 = m1 * 64
                    for i2, j2 in T.Parallel(64, 64):
                        GSTW0[bh, m1 - GLO[g], i2, j2] = W0[bh, i2, j2]
                        GSTS0[bh, m1 - GLO[g], i2, j2] = S0[bh, i2, j2]
                    T.sync_threads()
                    for mi4 in T.serial(2):
                        for ni4 in T.serial(2):
                            T.clear(frag3)
                            for ki7 in T.Pipelined(2, num_stages=2):
                                T.copy(K[bh, t1 + mi4 * 32, ki7 * 32], shared5)
                                T.copy(W0[bh, 0 + ni4 * 32, ki7 * 32], shared6)
                                T.gemm(shared5, shared6, frag3, transpose_A=False, transpose_B=True)
                            for ii4, jj4 in T.Parallel(32, 32):
                                G0[bh, (mi4 * 32 + ii4), (ni4 * 32 + jj4)] = (frag3[ii4, jj4] - V[bh, t1 + (mi4 * 32 + ii4), (ni4 * 32 + jj4)])
                    T.sync_threads()
                    for i8, j8 in T.Parallel(64, 64):
                        Y0[bh, i8, j8] = -CC[bh, m1, i8] * K[bh, t1 + i8, j8]
                        YW0[bh, i8, j8] = -CW[bh, m1, i8] * K[bh, t1 + i8, j8]
                    T.sync_threads()
                    for mi10 in T.serial(2):
                        for ni10 in T.serial(2):
                            for ii10, jj10 in T.Parallel(32, 32):
                                frag9[ii10, jj10] = W0[bh, (mi10 * 32 + ii10), (ni10 * 32 + jj10)] * SC[bh, m1, 0] + SC[bh, m1, 1] * S0[bh, (mi10 * 32 + ii10), (ni10 * 32 + jj10)]
                            for ki13 in T.Pipelined(2, num_stages=2):
                                T.copy(G0[bh, 0 + ki13 * 32, mi10 * 32], shared11)
                                T.copy(Y0[bh, 0 + ki13 * 32, ni10 * 32], shared12)
                                T.gemm(shared11, shared12, frag9, transpose_A=True, transpose_B=False)
                            for ii10, jj10 in T.Parallel(32, 32):
                                W0[bh, (mi10 * 32 + ii10), (ni10 * 32 + jj10)] = frag9[ii10, jj10]
                    T.sync_threads()
                    for mi15 in T.serial(2):
                        for ni15 in T.serial(2):
                            for ii15, jj15 in T.Parallel(32, 32):
                                frag14[ii15, jj15] = SC[bh, m1, 2] * S0[bh, (mi15 * 32 + ii15), (ni15 * 32 + jj15)]
                            for ki18 in T.Pipelined(2, num_stages=2):
                                T.copy(G0[bh, 0 + ki18 * 32, mi15 * 32], shared16)
                                T.copy(YW0[bh, 0 + ki18 * 32, ni15 * 32], shared17)
                                T.gemm(shared16, shared17, frag14, transpose_A=True, transpose_B=False)
                            for ii15, jj15 in T.Parallel(32, 32):
                                S0[bh, (mi15 * 32 + ii15), (ni15 * 32 + jj15)] = frag14[ii15, jj15]
                    T.sync_threads()
            for m2 in T.serial(NC):
                n2 = NC - 1 - m2
                if n2 >= GLO[g] and n2 < GHI[g]:
                    t2 = n2 * 64
                    for i19, j19 in T.Parallel(64, 64):
                        W0[bh, i19, j19] = GSTW0[bh, n2 - GLO[g], i19, j19]
                        S0[bh, i19, j19] = GSTS0[bh, n2 - GLO[g], i19, j19]
                    T.sync_threads()
                    for mi21 in T.serial(2):
                        for ni21 in T.serial(2):
                            T.clear(frag20)
                            for ki24 in T.Pipelined(2, num_stages=2):
                                T.copy(K[bh, t2 + mi21 * 32, ki24 * 32], shared22)
                                T.copy(W0[bh, 0 + ni21 * 32, ki24 * 32], shared23)
                                T.gemm(shared22, shared23, frag20, transpose_A=False, transpose_B=True)
                            for ii21, jj21 in T.Parallel(32, 32):
                                G0[bh, (mi21 * 32 + ii21), (ni21 * 32 + jj21)] = (frag20[ii21, jj21] - V[bh, t2 + (mi21 * 32 + ii21), (ni21 * 32 + jj21)])
                    T.sync_threads()
                    for mi26 in T.serial(2):
                        for ni26 in T.serial(2):
                            T.clear(frag25)
                            for ki29 in T.Pipelined(2, num_stages=2):
                                T.copy(Q[bh, t2 + mi26 * 32, ki29 * 32], shared27)
                                T.copy(K[bh, t2 + ni26 * 32, ki29 * 32], shared28)
                                T.gemm(shared27, shared28, frag25, transpose_A=False, transpose_B=True)
                            for ii26, jj26 in T.Parallel(32, 32):
                                QK[bh, (mi26 * 32 + ii26), (ni26 * 32 + jj26)] = -CM[bh, n2, (mi26 * 32 + ii26), (ni26 * 32 + jj26)] * frag25[ii26, jj26]
                                QKR0[bh, (mi26 * 32 + ii26), (ni26 * 32 + jj26)] = frag25[ii26, jj26]
                    T.sync_threads()
                    for i30, j30 in T.Parallel(64, 64):
                        Y0[bh, i30, j30] = -CC[bh, n2, i30] * K[bh, t2 + i30, j30]
                        YW0[bh, i30, j30] = -CW[bh, n2, i30] * K[bh, t2 + i30, j30]
                    T.sync_threads()
                    for i31, j31 in T.Parallel(1, 64):
                        DCC[bh, n2, j31] = 0.0
                        DCA[bh, n2, j31] = 0.0
                        DCMO[bh, n2, j31] = 0.0
                        DCW[bh, n2, j31] = 0.0
                    T.sync_threads()
                    for i32, j32 in T.Parallel(64, 64):
                        DCM[bh, n2, i32, j32] = 0.0
                    T.sync_threads()
                    for i33, j33 in T.Parallel(1, 3):
                        DSC[bh, n2, j33] = 0.0
                    T.sync_threads()
                    for i34, j34 in T.Parallel(64, 64):
                        DKEY0[bh, i34, j34] = 0.0
                    T.sync_threads()
                    for i35, j35 in T.Parallel(1, 64):
                        RD[bh, j35] = 0.0
                    T.sync_threads()
                    for r36 in T.Parallel(64):
                        for c36 in T.serial(64):
                            RD[bh, r36] += DW0[bh, r36, c36] * W0[bh, r36, c36]
                    T.sync_threads()
                    for z37 in T.Parallel(1):
                        for r37 in T.serial(64):
                            DSC[bh, n2, 0] += RD[bh, r37]
                    T.sync_threads()
                    for i38, j38 in T.Parallel(1, 64):
                        RD[bh, j38] = 0.0
                    T.sync_threads()
                    for r39 in T.Parallel(64):
                        for c39 in T.serial(64):
                            RD[bh, r39] += DW0[bh, r39, c39] * S0[bh, r39, c39]
                    T.sync_threads()
                    for z40 in T.Parallel(1):
                        for r40 in T.serial(64):
                            DSC[bh, n2, 1] += RD[bh, r40]
                    T.sync_threads()
                    for i41, j41 in T.Parallel(1, 64):
                        RD[bh, j41] = 0.0
                    T.sync_threads()
                    for r42 in T.Parallel(64):
                        for c42 in T.serial(64):
                            RD[bh, r42] += DS0[bh, r42, c42] * S0[bh, r42, c42]
                    T.sync_threads()
                    for z43 in T.Parallel(1):
                        for r43 in T.serial(64):
                            DSC[bh, n2, 2] += RD[bh, r43]
                    T.sync_threads()
                    for i44, j44 in T.Parallel(64, 64):
                        DWN0[bh, i44, j44] = DW0[bh, i44, j44] * SC[bh, n2, 0]
                        DSN0[bh, i44, j44] = SC[bh, n2, 1] * DW0[bh, i44, j44] + SC[bh, n2, 2] * DS0[bh, i44, j44]
                    T.sync_threads()
                    for mi46 in T.serial(2):
                        for ni46 in T.serial(2):
                            T.clear(frag45)
                            for ki49 in T.Pipelined(2, num_stages=2):
                                T.copy(Y0[bh, 0 + mi46 * 32, ki49 * 32], shared47)
                                T.copy(DW0[bh, 0 + ni46 * 32, ki49 * 32], shared48)
                                T.gemm(shared47, shared48, frag45, transpose_A=False, transpose_B=True)
                            for ki52 in T.Pipelined(2, num_stages=2):
                                T.copy(YW0[bh, 0 + mi46 * 32, ki52 * 32], shared50)
                                T.copy(DS0[bh, 0 + ni46 * 32, ki52 * 32], shared51)
                                T.gemm(shared50, shared51, frag45, transpose_A=False, transpose_B=True)
                            for ii46, jj46 in T.Parallel(32, 32):
                                DG0[bh, (mi46 * 32 + ii46), (ni46 * 32 + jj46)] = frag45[ii46, jj46]
                    T.sync_threads()
                    for mi54 in T.serial(2):
                        for ni54 in T.serial(2):
                            T.clear(frag53)
                            for ki57 in T.Pipelined(2, num_stages=2):
                                T.copy(G0[bh, 0 + mi54 * 32, ki57 * 32], shared55)
                                T.copy(DW0[bh, 0 + ki57 * 32, ni54 * 32], shared56)
                                T.gemm(shared55, shared56, frag53, transpose_A=False, transpose_B=False)
                            for ii54, jj54 in T.Parallel(32, 32):
                                NDU[bh, (mi54 * 32 + ii54), (ni54 * 32 + jj54)] = frag53[ii54, jj54]
                    T.sync_threads()
                    for r58 in T.Parallel(64):
                        for c58 in T.serial(64):
                            DCC[bh, n2, r58] -= NDU[bh, r58, c58] * K[bh, t2 + r58, c58]
                    T.sync_threads()
                    for mi60 in T.serial(2):
                        for ni60 in T.serial(2):
                            T.clear(frag59)
                            for ki63 in T.Pipelined(2, num_stages=2):
                                T.copy(G0[bh, 0 + mi60 * 32, ki63 * 32], shared61)
                                T.copy(DS0[bh, 0 + ki63 * 32, ni60 * 32], shared62)
                                T.gemm(shared61, shared62, frag59, transpose_A=False, transpose_B=False)
                            for ii60, jj60 in T.Parallel(32, 32):
                                NDUS[bh, (mi60 * 32 + ii60), (ni60 * 32 + jj60)] = frag59[ii60, jj60]
                    T.sync_threads()
                    for r64 in T.Parallel(64):
                        for c64 in T.serial(64):
                            DCW[bh, n2, r64] -= NDUS[bh, r64, c64] * K[bh, t2 + r64, c64]
                    T.sync_threads()
                    for i65, j65 in T.Parallel(64, 64):
                        DX0[bh, i65, j65] = -CC[bh, n2, i65] * NDU[bh, i65, j65] - CW[bh, n2, i65] * NDUS[bh, i65, j65]
                    T.sync_threads()
                    for i66, j66 in T.Parallel(64, 64):
                        DZQ0[bh, i66, j66] = DO[bh, t2 + i66, j66]
                    T.sync_threads()
                    for i67, j67 in T.Parallel(64, 64):
                        XA0[bh, i67, j67] = CA[bh, n2, i67] * Q[bh, t2 + i67, j67]
                        XM0[bh, i67, j67] = CMO[bh, n2, i67] * Q[bh, t2 + i67, j67]
                    T.sync_threads()
                    for mi69 in T.serial(2):
                        for ni69 in T.serial(2):
                            T.clear(frag68)
                            for ki72 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ0[bh, 0 + mi69 * 32, ki72 * 32], shared70)
                                T.copy(W0[bh, 0 + ki72 * 32, ni69 * 32], shared71)
                                T.gemm(shared70, shared71, frag68, transpose_A=False, transpose_B=False)
                            for ii69, jj69 in T.Parallel(32, 32):
                                NDU[bh, (mi69 * 32 + ii69), (ni69 * 32 + jj69)] = frag68[ii69, jj69]
                    T.sync_threads()
                    for mi74 in T.serial(2):
                        for ni74 in T.serial(2):
                            for ii74, jj74 in T.Parallel(32, 32):
                                frag73[ii74, jj74] = DWN0[bh, (mi74 * 32 + ii74), (ni74 * 32 + jj74)]
                            for ki77 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ0[bh, 0 + ki77 * 32, mi74 * 32], shared75)
                                T.copy(XA0[bh, 0 + ki77 * 32, ni74 * 32], shared76)
                                T.gemm(shared75, shared76, frag73, transpose_A=True, transpose_B=False)
                            for ii74, jj74 in T.Parallel(32, 32):
                                DWN0[bh, (mi74 * 32 + ii74), (ni74 * 32 + jj74)] = frag73[ii74, jj74]
                    T.sync_threads()
                    for r78 in T.Parallel(64):
                        for c78 in T.serial(64):
                            DCA[bh, n2, r78] += NDU[bh, r78, c78] * Q[bh, t2 + r78, c78]
                    T.sync_threads()
                    for mi80 in T.serial(2):
                        for ni80 in T.serial(2):
                            T.clear(frag79)
                            for ki83 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ0[bh, 0 + mi80 * 32, ki83 * 32], shared81)
                                T.copy(S0[bh, 0 + ki83 * 32, ni80 * 32], shared82)
                                T.gemm(shared81, shared82, frag79, transpose_A=False, transpose_B=False)
                            for ii80, jj80 in T.Parallel(32, 32):
                                NDUS[bh, (mi80 * 32 + ii80), (ni80 * 32 + jj80)] = frag79[ii80, jj80]
                    T.sync_threads()
                    for mi85 in T.serial(2):
                        for ni85 in T.serial(2):
                            for ii85, jj85 in T.Parallel(32, 32):
                                frag84[ii85, jj85] = DSN0[bh, (mi85 * 32 + ii85), (ni85 * 32 + jj85)]
                            for ki88 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ0[bh, 0 + ki88 * 32, mi85 * 32], shared86)
                                T.copy(XM0[bh, 0 + ki88 * 32, ni85 * 32], shared87)
                                T.gemm(shared86, shared87, frag84, transpose_A=True, transpose_B=False)
                            for ii85, jj85 in T.Parallel(32, 32):
                                DSN0[bh, (mi85 * 32 + ii85), (ni85 * 32 + jj85)] = frag84[ii85, jj85]
                    T.sync_threads()
                    for r89 in T.Parallel(64):
                        for c89 in T.serial(64):
                            DCMO[bh, n2, r89] += NDUS[bh, r89, c89] * Q[bh, t2 + r89, c89]
                    T.sync_threads()
                    for i90, j90 in T.Parallel(64, 64):
                        DXQ0[bh, i90, j90] = CA[bh, n2, i90] * NDU[bh, i90, j90] + CMO[bh, n2, i90] * NDUS[bh, i90, j90]
                    T.sync_threads()
                    for mi92 in T.serial(2):
                        for ni92 in T.serial(2):
                            T.clear(frag91)
                            for ki95 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ0[bh, 0 + mi92 * 32, ki95 * 32], shared93)
                                T.copy(G0[bh, 0 + ni92 * 32, ki95 * 32], shared94)
                                T.gemm(shared93, shared94, frag91, transpose_A=False, transpose_B=True)
                            for ii92, jj92 in T.Parallel(32, 32):
                                DMIX[bh, (mi92 * 32 + ii92), (ni92 * 32 + jj92)] = frag91[ii92, jj92]
                    T.sync_threads()
                    for i96, j96 in T.Parallel(64, 64):
                        QKN[bh, i96, j96] = -CM[bh, n2, i96, j96] * QKR0[bh, i96, j96]
                        DCM[bh, n2, i96, j96] = DCM[bh, n2, i96, j96] - DMIX[bh, i96, j96] * QKR0[bh, i96, j96]
                        DQK[bh, i96, j96] = -CM[bh, n2, i96, j96] * DMIX[bh, i96, j96]
                    T.sync_threads()
                    for mi98 in T.serial(2):
                        for ni98 in T.serial(2):
                            for ii98, jj98 in T.Parallel(32, 32):
                                frag97[ii98, jj98] = DG0[bh, (mi98 * 32 + ii98), (ni98 * 32 + jj98)]
                            for ki101 in T.Pipelined(2, num_stages=2):
                                T.copy(QKN[bh, 0 + ki101 * 32, mi98 * 32], shared99)
                                T.copy(DZQ0[bh, 0 + ki101 * 32, ni98 * 32], shared100)
                                T.gemm(shared99, shared100, frag97, transpose_A=True, transpose_B=False)
                            for ii98, jj98 in T.Parallel(32, 32):
                                DG0[bh, (mi98 * 32 + ii98), (ni98 * 32 + jj98)] = frag97[ii98, jj98]
                    T.sync_threads()
                    for mi103 in T.serial(2):
                        for ni103 in T.serial(2):
                            for ii103, jj103 in T.Parallel(32, 32):
                                frag102[ii103, jj103] = DXQ0[bh, (mi103 * 32 + ii103), (ni103 * 32 + jj103)]
                            for ki106 in T.Pipelined(2, num_stages=2):
                                T.copy(DQK[bh, 0 + mi103 * 32, ki106 * 32], shared104)
                                T.copy(K[bh, t2 + ki106 * 32, ni103 * 32], shared105)
                                T.gemm(shared104, shared105, frag102, transpose_A=False, transpose_B=False)
                            for ii103, jj103 in T.Parallel(32, 32):
                                DXQ0[bh, (mi103 * 32 + ii103), (ni103 * 32 + jj103)] = frag102[ii103, jj103]
                    T.sync_threads()
                    for mi108 in T.serial(2):
                        for ni108 in T.serial(2):
                            for ii108, jj108 in T.Parallel(32, 32):
                                frag107[ii108, jj108] = DX0[bh, (mi108 * 32 + ii108), (ni108 * 32 + jj108)]
                            for ki111 in T.Pipelined(2, num_stages=2):
                                T.copy(DQK[bh, 0 + ki111 * 32, mi108 * 32], shared109)
                                T.copy(Q[bh, t2 + ki111 * 32, ni108 * 32], shared110)
                                T.gemm(shared109, shared110, frag107, transpose_A=True, transpose_B=False)
                            for ii108, jj108 in T.Parallel(32, 32):
                                DX0[bh, (mi108 * 32 + ii108), (ni108 * 32 + jj108)] = frag107[ii108, jj108]
                    T.sync_threads()
                    for i112, j112 in T.Parallel(64, 64):
                        DQ[bh, t2 + i112, j112] = DXQ0[bh, i112, j112]
                    T.sync_threads()
                    for i113, j113 in T.Parallel(64, 64):
                        DZK0[bh, i113, j113] = DG0[bh, i113, j113]
                    T.sync_threads()
                    for i114, j114 in T.Parallel(64, 64):
                        DV[bh, t2 + i114, j114] = -DZK0[bh, i114, j114]
                    T.sync_threads()
                    for mi116 in T.serial(2):
                        for ni116 in T.serial(2):
                            for ii116, jj116 in T.Parallel(32, 32):
                                frag115[ii116, jj116] = DKEY0[bh, (mi116 * 32 + ii116), (ni116 * 32 + jj116)]
                            for ki119 in T.Pipelined(2, num_stages=2):
                                T.copy(DZK0[bh, 0 + ki119 * 32, mi116 * 32], shared117)
                                T.copy(K[bh, t2 + ki119 * 32, ni116 * 32], shared118)
                                T.gemm(shared117, shared118, frag115, transpose_A=True, transpose_B=False)
                            for ii116, jj116 in T.Parallel(32, 32):
                                DKEY0[bh, (mi116 * 32 + ii116), (ni116 * 32 + jj116)] = frag115[ii116, jj116]
                    T.sync_threads()
                    for mi121 in T.serial(2):
                        for ni121 in T.serial(2):
                            for ii121, jj121 in T.Parallel(32, 32):
                                frag120[ii121, jj121] = DX0[bh, (mi121 * 32 + ii121), (ni121 * 32 + jj121)]
                            for ki124 in T.Pipelined(2, num_stages=2):
                                T.copy(DZK0[bh, 0 + mi121 * 32, ki124 * 32], shared122)
                                T.copy(W0[bh, 0 + ki124 * 32, ni121 * 32], shared123)
                                T.gemm(shared122, shared123, frag120, transpose_A=False, transpose_B=False)
                            for ii121, jj121 in T.Parallel(32, 32):
                                DX0[bh, (mi121 * 32 + ii121), (ni121 * 32 + jj121)] = frag120[ii121, jj121]
                    T.sync_threads()
                    for i125, j125 in T.Parallel(64, 64):
                        DWN0[bh, i125, j125] = DWN0[bh, i125, j125] + DKEY0[bh, i125, j125]
                    T.sync_threads()
                    for i126, j126 in T.Parallel(64, 64):
                        DK[bh, t2 + i126, j126] = DX0[bh, i126, j126]
                    T.sync_threads()
                    for i127, j127 in T.Parallel(64, 64):
                        DW0[bh, i127, j127] = DWN0[bh, i127, j127]
                        DS0[bh, i127, j127] = DSN0[bh, i127, j127]
                    T.sync_threads()
