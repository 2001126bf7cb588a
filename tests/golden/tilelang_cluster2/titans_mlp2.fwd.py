"""Generated from rule 2f689d34c8b059e9: TileLang cluster forward chunk loop (gpu, D=64, chunk=64). Do not edit."""
import tilelang.language as T

BH = T.dynamic("BH")
NC = T.dynamic("NC")
TP = T.dynamic("TP")
NG = T.dynamic("NG")
NB = T.dynamic("NB")


@T.prim_func
def titans_tl_fwdc2_2f689d34c8b059e9(
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
        W1: T.Tensor((BH, 64, 256), "float32"),
        CKW1: T.Tensor((BH, NG, 64, 256), "float32"),
        S1: T.Tensor((BH, 64, 256), "float32"),
        CKS1: T.Tensor((BH, NG, 64, 256), "float32"),
        Z0: T.Tensor((NB, 64, 128), "float32"),
        X1: T.Tensor((NB, 64, 128), "float32"),
        XQ1: T.Tensor((NB, 64, 128), "float32"),
        G0: T.Tensor((NB, 64, 128), "float32"),
        Y0: T.Tensor((NB, 64, 64), "float32"),
        YW0: T.Tensor((NB, 64, 64), "float32"),
        G1: T.Tensor((NB, 64, 64), "float32"),
        Y1: T.Tensor((NB, 64, 128), "float32"),
        YW1: T.Tensor((NB, 64, 128), "float32"),
        QK: T.Tensor((NB, 64, 64), "float32"),
        PART: T.Tensor((BH, 2, 2, 64, 64), "float32"),
        OPART: T.Tensor((BH, 2, 2, 64, 64), "float32")):
    with T.Kernel(BH * 2, threads=128, cluster_dims=2) as bid:
        frag3 = T.alloc_fragment((32, 32), "float32")
        shared5 = T.alloc_shared((32, 32), "float32")
        shared6 = T.alloc_shared((32, 32), "float32")
        frag8 = T.alloc_fragment((32, 32), "float32")
        shared10 = T.alloc_shared((32, 32), "float32")
        shared11 = T.alloc_shared((32, 32), "float32")
        frag14 = T.alloc_fragment((32, 32), "float32")
        shared16 = T.alloc_shared((32, 32), "float32")
        shared17 = T.alloc_shared((32, 32), "float32")
        frag19 = T.alloc_fragment((32, 32), "float32")
        shared21 = T.alloc_shared((32, 32), "float32")
        shared22 = T.alloc_shared((32, 32), "float32")
        frag24 = T.alloc_fragment((32, 32), "float32")
        frag25 = T.alloc_fragment((32, 32), "float32")
        shared27 = T.alloc_shared((32, 32), "float32")
        shared28 = T.alloc_shared((32, 32), "float32")
        shared30 = T.alloc_shared((32, 32), "float32")
        shared31 = T.alloc_shared((32, 32), "float32")
        shared33 = T.alloc_shared((32, 32), "float32")
        shared34 = T.alloc_shared((32, 32), "float32")
        frag36 = T.alloc_fragment((32, 32), "float32")
        shared38 = T.alloc_shared((32, 32), "float32")
        shared39 = T.alloc_shared((32, 32), "float32")
        frag41 = T.alloc_fragment((32, 32), "float32")
        frag42 = T.alloc_fragment((32, 32), "float32")
        shared44 = T.alloc_shared((32, 32), "float32")
        shared45 = T.alloc_shared((32, 32), "float32")
        shared47 = T.alloc_shared((32, 32), "float32")
        shared48 = T.alloc_shared((32, 32), "float32")
        shared50 = T.alloc_shared((32, 32), "float32")
        shared51 = T.alloc_shared((32, 32), "float32")
        frag54 = T.alloc_fragment((32, 32), "float32")
        shared56 = T.alloc_shared((32, 32), "float32")
        shared57 = T.alloc_shared((32, 32), "float32")
        frag59 = T.alloc_fragment((32, 32), "float32")
        shared61 = T.alloc_shared((32, 32), "float32")
        shared62 = T.alloc_shared((32, 32), "float32")
        frag65 = T.alloc_fragment((32, 32), "float32")
        shared67 = T.alloc_shared((32, 32), "float32")
        shared68 = T.alloc_shared((32, 32), "float32")
        frag70 = T.alloc_fragment((32, 32), "float32")
        shared72 = T.alloc_shared((32, 32), "float32")
        shared73 = T.alloc_shared((32, 32), "float32")
        W0_r = T.alloc_shared((128, 64), "float32")
        S0_r = T.alloc_shared((128, 64), "float32")
        W1_r = T.alloc_shared((64, 128), "float32")
        S1_r = T.alloc_shared((64, 128), "float32")
        bh = bid // 2
        cr = bid % 2
        blk = bid
        for i, j in T.Parallel(128, 64):
            W0_r[i, j] = W0[bh, cr * 128 + i, j]
        for i, j in T.Parallel(128, 64):
            S0_r[i, j] = S0[bh, cr * 128 + i, j]
        for i, j in T.Parallel(64, 128):
            W1_r[i, j] = W1[bh, i, cr * 128 + j]
        for i, j in T.Parallel(64, 128):
            S1_r[i, j] = S1[bh, i, cr * 128 + j]
        T.sync_threads()
        for n in T.serial(NC):
            t0 = n * 64
            if SLOT[n] >= 0:
                for i1, j1 in T.Parallel(128, 64):
                    CKW0[bh, SLOT[n], cr * 128 + i1, j1] = W0_r[i1, j1]
                    CKS0[bh, SLOT[n], cr * 128 + i1, j1] = S0_r[i1, j1]
                T.sync_threads()
                for i2, j2 in T.Parallel(64, 128):
                    CKW1[bh, SLOT[n], i2, cr * 128 + j2] = W1_r[i2, j2]
                    CKS1[bh, SLOT[n], i2, cr * 128 + j2] = S1_r[i2, j2]
                T.sync_threads()
            for mi4 in T.serial(2):
                for ni4 in T.serial(4):
                    T.clear(frag3)
                    for ki7 in T.Pipelined(2, num_stages=2):
                        T.copy(K[bh, t0 + mi4 * 32, ki7 * 32], shared5)
                        T.copy(W0_r[0 + ni4 * 32, ki7 * 32], shared6)
                        T.gemm(shared5, shared6, frag3, transpose_A=False, transpose_B=True)
                    for ii4, jj4 in T.Parallel(32, 32):
                        Z0[blk, (mi4 * 32 + ii4), (ni4 * 32 + jj4)] = frag3[ii4, jj4]
                        X1[blk, (mi4 * 32 + ii4), (ni4 * 32 + jj4)] = (frag3[ii4, jj4] * T.sigmoid(frag3[ii4, jj4]))
            T.sync_threads()
            for mi9 in T.serial(2):
                for ni9 in T.serial(2):
                    T.clear(frag8)
                    for ki12 in T.Pipelined(4, num_stages=2):
                        T.copy(X1[blk, 0 + mi9 * 32, ki12 * 32], shared10)
                        T.copy(W1_r[0 + ni9 * 32, ki12 * 32], shared11)
                        T.gemm(shared10, shared11, frag8, transpose_A=False, transpose_B=True)
                    for ii9, jj9 in T.Parallel(32, 32):
                        PART[bh, n % 2, cr, (mi9 * 32 + ii9), (ni9 * 32 + jj9)] = frag8[ii9, jj9]
            T.sync_threads()
            T.cluster_sync()
            for i13, j13 in T.Parallel(64, 64):
                G1[blk, i13, j13] = ((PART[bh, n % 2, 0, i13, j13] + PART[bh, n % 2, 1, i13, j13]) - V[bh, t0 + i13, j13])
            T.sync_threads()
            if n > 0:
                for i75, j75 in T.Parallel(32, 64):
                    O[bh, (n - 1) * 64 + (cr * 32 + i75), j75] = (OPART[bh, (n - 1) % 2, 0, (cr * 32 + i75), j75] + OPART[bh, (n - 1) % 2, 1, (cr * 32 + i75), j75])
                T.sync_threads()
            for mi15 in T.serial(2):
                for ni15 in T.serial(4):
                    T.clear(frag14)
                    for ki18 in T.Pipelined(2, num_stages=2):
                        T.copy(G1[blk, 0 + mi15 * 32, ki18 * 32], shared16)
                        T.copy(W1_r[0 + ki18 * 32, ni15 * 32], shared17)
                        T.gemm(shared16, shared17, frag14, transpose_A=False, transpose_B=False)
                    for ii15, jj15 in T.Parallel(32, 32):
                        G0[blk, (mi15 * 32 + ii15), (ni15 * 32 + jj15)] = frag14[ii15, jj15] * (T.sigmoid(Z0[blk, (mi15 * 32 + ii15), (ni15 * 32 + jj15)]) * (1.0 + Z0[blk, (mi15 * 32 + ii15), (ni15 * 32 + jj15)] * (1.0 - T.sigmoid(Z0[blk, (mi15 * 32 + ii15), (ni15 * 32 + jj15)]))))
            T.sync_threads()
            for mi20 in T.serial(2):
                for ni20 in T.serial(2):
                    T.clear(frag19)
                    for ki23 in T.Pipelined(2, num_stages=2):
                        T.copy(Q[bh, t0 + mi20 * 32, ki23 * 32], shared21)
                        T.copy(K[bh, t0 + ni20 * 32, ki23 * 32], shared22)
                        T.gemm(shared21, shared22, frag19, transpose_A=False, transpose_B=True)
                    for ii20, jj20 in T.Parallel(32, 32):
                        QK[blk, (mi20 * 32 + ii20), (ni20 * 32 + jj20)] = -CM[bh, n, (mi20 * 32 + ii20), (ni20 * 32 + jj20)] * frag19[ii20, jj20]
            T.sync_threads()
            for mi26 in T.serial(2):
                for ni26 in T.serial(4):
                    T.clear(frag24)
                    T.clear(frag25)
                    for ki29 in T.Pipelined(2, num_stages=2):
                        T.copy(Q[bh, t0 + mi26 * 32, ki29 * 32], shared27)
                        T.copy(W0_r[0 + ni26 * 32, ki29 * 32], shared28)
                        T.gemm(shared27, shared28, frag25, transpose_A=False, transpose_B=True)
                    for ii26, jj26 in T.Parallel(32, 32):
                        frag24[ii26, jj26] += CA[bh, n, (mi26 * 32 + ii26)] * frag25[ii26, jj26]
                    T.clear(frag25)
                    for ki32 in T.Pipelined(2, num_stages=2):
                        T.copy(Q[bh, t0 + mi26 * 32, ki32 * 32], shared30)
                        T.copy(S0_r[0 + ni26 * 32, ki32 * 32], shared31)
                        T.gemm(shared30, shared31, frag25, transpose_A=False, transpose_B=True)
                    for ii26, jj26 in T.Parallel(32, 32):
                        frag24[ii26, jj26] += CMO[bh, n, (mi26 * 32 + ii26)] * frag25[ii26, jj26]
                    for ki35 in T.Pipelined(2, num_stages=2):
                        T.copy(QK[blk, 0 + mi26 * 32, ki35 * 32], shared33)
                        T.copy(G0[blk, 0 + ki35 * 32, ni26 * 32], shared34)
                        T.gemm(shared33, shared34, frag24, transpose_A=False, transpose_B=False)
                    for ii26, jj26 in T.Parallel(32, 32):
                        XQ1[blk, (mi26 * 32 + ii26), (ni26 * 32 + jj26)] = (frag24[ii26, jj26] * T.sigmoid(frag24[ii26, jj26]))
            T.sync_threads()
            for mi37 in T.serial(2):
                for ni37 in T.serial(2):
                    T.clear(frag36)
                    for ki40 in T.Pipelined(4, num_stages=2):
                        T.copy(XQ1[blk, 0 + mi37 * 32, ki40 * 32], shared38)
                        T.copy(X1[blk, 0 + ni37 * 32, ki40 * 32], shared39)
                        T.gemm(shared38, shared39, frag36, transpose_A=False, transpose_B=True)
                    for ii37, jj37 in T.Parallel(32, 32):
                        QK[blk, (mi37 * 32 + ii37), (ni37 * 32 + jj37)] = -CM[bh, n, (mi37 * 32 + ii37), (ni37 * 32 + jj37)] * frag36[ii37, jj37]
            T.sync_threads()
            for mi43 in T.serial(2):
                for ni43 in T.serial(2):
                    T.clear(frag41)
                    T.clear(frag42)
                    for ki46 in T.Pipelined(4, num_stages=2):
                        T.copy(XQ1[blk, 0 + mi43 * 32, ki46 * 32], shared44)
                        T.copy(W1_r[0 + ni43 * 32, ki46 * 32], shared45)
                        T.gemm(shared44, shared45, frag42, transpose_A=False, transpose_B=True)
                    for ii43, jj43 in T.Parallel(32, 32):
                        frag41[ii43, jj43] += CA[bh, n, (mi43 * 32 + ii43)] * frag42[ii43, jj43]
                    T.clear(frag42)
                    for ki49 in T.Pipelined(4, num_stages=2):
                        T.copy(XQ1[blk, 0 + mi43 * 32, ki49 * 32], shared47)
                        T.copy(S1_r[0 + ni43 * 32, ki49 * 32], shared48)
                        T.gemm(shared47, shared48, frag42, transpose_A=False, transpose_B=True)
                    for ii43, jj43 in T.Parallel(32, 32):
                        frag41[ii43, jj43] += CMO[bh, n, (mi43 * 32 + ii43)] * frag42[ii43, jj43]
                    for ki52 in T.Pipelined(2, num_stages=2):
                        T.copy(QK[blk, 0 + mi43 * 32, ki52 * 32], shared50)
                        T.copy(G1[blk, 0 + ki52 * 32, ni43 * 32], shared51)
                        T.gemm(shared50, shared51, frag41, transpose_A=False, transpose_B=False)
                    for ii43, jj43 in T.Parallel(32, 32):
                        OPART[bh, n % 2, cr, (mi43 * 32 + ii43), (ni43 * 32 + jj43)] = frag41[ii43, jj43]
            T.sync_threads()
            for i53, j53 in T.Parallel(64, 64):
                Y0[blk, i53, j53] = -CC[bh, n, i53] * K[bh, t0 + i53, j53]
                YW0[blk, i53, j53] = -CW[bh, n, i53] * K[bh, t0 + i53, j53]
            T.sync_threads()
            for mi55 in T.serial(4):
                for ni55 in T.serial(2):
                    for ii55, jj55 in T.Parallel(32, 32):
                        frag54[ii55, jj55] = W0_r[(mi55 * 32 + ii55), (ni55 * 32 + jj55)] * SC[bh, n, 0] + SC[bh, n, 1] * S0_r[(mi55 * 32 + ii55), (ni55 * 32 + jj55)]
                    for ki58 in T.Pipelined(2, num_stages=2):
                        T.copy(G0[blk, 0 + ki58 * 32, mi55 * 32], shared56)
                        T.copy(Y0[blk, 0 + ki58 * 32, ni55 * 32], shared57)
                        T.gemm(shared56, shared57, frag54, transpose_A=True, transpose_B=False)
                    for ii55, jj55 in T.Parallel(32, 32):
                        W0_r[(mi55 * 32 + ii55), (ni55 * 32 + jj55)] = frag54[ii55, jj55]
            T.sync_threads()
            for mi60 in T.serial(4):
                for ni60 in T.serial(2):
                    for ii60, jj60 in T.Parallel(32, 32):
                        frag59[ii60, jj60] = SC[bh, n, 2] * S0_r[(mi60 * 32 + ii60), (ni60 * 32 + jj60)]
                    for ki63 in T.Pipelined(2, num_stages=2):
                        T.copy(G0[blk, 0 + ki63 * 32, mi60 * 32], shared61)
                        T.copy(YW0[blk, 0 + ki63 * 32, ni60 * 32], shared62)
                        T.gemm(shared61, shared62, frag59, transpose_A=True, transpose_B=False)
                    for ii60, jj60 in T.Parallel(32, 32):
                        S0_r[(mi60 * 32 + ii60), (ni60 * 32 + jj60)] = frag59[ii60, jj60]
            T.sync_threads()
            for i64, j64 in T.Parallel(64, 128):
                Y1[blk, i64, j64] = -CC[bh, n, i64] * X1[blk, 0 + i64, j64]
                YW1[blk, i64, j64] = -CW[bh, n, i64] * X1[blk, 0 + i64, j64]
            T.sync_threads()
            for mi66 in T.serial(2):
                for ni66 in T.serial(4):
                    for ii66, jj66 in T.Parallel(32, 32):
                        frag65[ii66, jj66] = W1_r[(mi66 * 32 + ii66), (ni66 * 32 + jj66)] * SC[bh, n, 0] + SC[bh, n, 1] * S1_r[(mi66 * 32 + ii66), (ni66 * 32 + jj66)]
                    for ki69 in T.Pipelined(2, num_stages=2):
                        T.copy(G1[blk, 0 + ki69 * 32, mi66 * 32], shared67)
                        T.copy(Y1[blk, 0 + ki69 * 32, ni66 * 32], shared68)
                        T.gemm(shared67, shared68, frag65, transpose_A=True, transpose_B=False)
                    for ii66, jj66 in T.Parallel(32, 32):
                        W1_r[(mi66 * 32 + ii66), (ni66 * 32 + jj66)] = frag65[ii66, jj66]
            T.sync_threads()
            for mi71 in T.serial(2):
                for ni71 in T.serial(4):
                    for ii71, jj71 in T.Parallel(32, 32):
                        frag70[ii71, jj71] = SC[bh, n, 2] * S1_r[(mi71 * 32 + ii71), (ni71 * 32 + jj71)]
                    for ki74 in T.Pipelined(2, num_stages=2):
                        T.copy(G1[blk, 0 + ki74 * 32, mi71 * 32], shared72)
                        T.copy(YW1[blk, 0 + ki74 * 32, ni71 * 32], shared73)
                        T.gemm(shared72, shared73, frag70, transpose_A=True, transpose_B=False)
                    for ii71, jj71 in T.Parallel(32, 32):
                        S1_r[(mi71 * 32 + ii71), (ni71 * 32 + jj71)] = frag70[ii71, jj71]
            T.sync_threads()
        T.cluster_sync()
        for i76, j76 in T.Parallel(32, 64):
            O[bh, (NC - 1) * 64 + (cr * 32 + i76), j76] = (OPART[bh, (NC - 1) % 2, 0, (cr * 32 + i76), j76] + OPART[bh, (NC - 1) % 2, 1, (cr * 32 + i76), j76])
        T.sync_threads()
        T.sync_threads()
        for i, j in T.Parallel(128, 64):
            W0[bh, cr * 128 + i, j] = W0_r[i, j]
        for i, j in T.Parallel(128, 64):
            S0[bh, cr * 128 + i, j] = S0_r[i, j]
        for i, j in T.Parallel(64, 128):
            W1[bh, i, cr * 128 + j] = W1_r[i, j]
        for i, j in T.Parallel(64, 128):
            S1[bh, i, cr * 128 + j] = S1_r[i, j]
