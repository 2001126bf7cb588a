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
        frag55 = T.alloc_fragment((32, 32), "float32")
        shared57 = T.alloc_shared((32, 32), "float32")
        shared58 = T.alloc_shared((32, 32), "float32")
        frag60 = T.alloc_fragment((32, 32), "float32")
        shared62 = T.alloc_shared((32, 32), "float32")
        shared63 = T.alloc_shared((32, 32), "float32")
        frag66 = T.alloc_fragment((32, 32), "float32")
        shared68 = T.alloc_shared((32, 32), "float32")
        shared69 = T.alloc_shared((32, 32), "float32")
        frag71 = T.alloc_fragment((32, 32), "float32")
        shared73 = T.alloc_shared((32, 32), "float32")
        shared74 = T.alloc_shared((32, 32), "float32")
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
            T.cluster_sync()
            for i53, j53 in T.Parallel(32, 64):
                O[bh, t0 + (cr * 32 + i53), j53] = (OPART[bh, n % 2, 0, (cr * 32 + i53), j53] + OPART[bh, n % 2, 1, (cr * 32 + i53), j53])
            T.sync_threads()
            for i54, j54 in T.Parallel(64, 64):
                Y0[blk, i54, j54] = -CC[bh, n, i54] * K[bh, t0 + i54, j54]
                YW0[blk, i54, j54] = -CW[bh, n, i54] * K[bh, t0 + i54, j54]
            T.sync_threads()
            for mi56 in T.serial(4):
                for ni56 in T.serial(2):
                    for ii56, jj56 in T.Parallel(32, 32):
                        frag55[ii56, jj56] = W0_r[(mi56 * 32 + ii56), (ni56 * 32 + jj56)] * SC[bh, n, 0] + SC[bh, n, 1] * S0_r[(mi56 * 32 + ii56), (ni56 * 32 + jj56)]
                    for ki59 in T.Pipelined(2, num_stages=2):
                        T.copy(G0[blk, 0 + ki59 * 32, mi56 * 32], shared57)
                        T.copy(Y0[blk, 0 + ki59 * 32, ni56 * 32], shared58)
                        T.gemm(shared57, shared58, frag55, transpose_A=True, transpose_B=False)
                    for ii56, jj56 in T.Parallel(32, 32):
                        W0_r[(mi56 * 32 + ii56), (ni56 * 32 + jj56)] = frag55[ii56, jj56]
            T.sync_threads()
            for mi61 in T.serial(4):
                for ni61 in T.serial(2):
                    for ii61, jj61 in T.Parallel(32, 32):
                        frag60[ii61, jj61] = SC[bh, n, 2] * S0_r[(mi61 * 32 + ii61), (ni61 * 32 + jj61)]
                    for ki64 in T.Pipelined(2, num_stages=2):
                        T.copy(G0[blk, 0 + ki64 * 32, mi61 * 32], shared62)
                        T.copy(YW0[blk, 0 + ki64 * 32, ni61 * 32], shared63)
                        T.gemm(shared62, shared63, frag60, transpose_A=True, transpose_B=False)
                    for ii61, jj61 in T.Parallel(32, 32):
                        S0_r[(mi61 * 32 + ii61), (ni61 * 32 + jj61)] = frag60[ii61, jj61]
            T.sync_threads()
            for i65, j65 in T.Parallel(64, 128):
                Y1[blk, i65, j65] = -CC[bh, n, i65] * X1[blk, 0 + i65, j65]
                YW1[blk, i65, j65] = -CW[bh, n, i65] * X1[blk, 0 + i65, j65]
            T.sync_threads()
            for mi67 in T.serial(2):
                for ni67 in T.serial(4):
                    for ii67, jj67 in T.Parallel(32, 32):
                        frag66[ii67, jj67] = W1_r[(mi67 * 32 + ii67), (ni67 * 32 + jj67)] * SC[bh, n, 0] + SC[bh, n, 1] * S1_r[(mi67 * 32 + ii67), (ni67 * 32 + jj67)]
                    for ki70 in T.Pipelined(2, num_stages=2):
                        T.copy(G1[blk, 0 + ki70 * 32, mi67 * 32], shared68)
                        T.copy(Y1[blk, 0 + ki70 * 32, ni67 * 32], shared69)
                        T.gemm(shared68, shared69, frag66, transpose_A=True, transpose_B=False)
                    for ii67, jj67 in T.Parallel(32, 32):
                        W1_r[(mi67 * 32 + ii67), (ni67 * 32 + jj67)] = frag66[ii67, jj67]
            T.sync_threads()
            for mi72 in T.serial(2):
                for ni72 in T.serial(4):
                    for ii72, jj72 in T.Parallel(32, 32):
                        frag71[ii72, jj72] = SC[bh, n, 2] * S1_r[(mi72 * 32 + ii72), (ni72 * 32 + jj72)]
                    for ki75 in T.Pipelined(2, num_stages=2):
                        T.copy(G1[blk, 0 + ki75 * 32, mi72 * 32], shared73)
                        T.copy(YW1[blk, 0 + ki75 * 32, ni72 * 32], shared74)
                        T.gemm(shared73, shared74, frag71, transpose_A=True, transpose_B=False)
                    for ii72, jj72 in T.Parallel(32, 32):
                        S1_r[(mi72 * 32 + ii72), (ni72 * 32 + jj72)] = frag71[ii72, jj72]
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
