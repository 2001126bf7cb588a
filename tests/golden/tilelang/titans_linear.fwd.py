"""Generated from rule a490a659cb11fddb: TileLang forward chunk loop (gpu, D=64, chunk=64). Do not edit."""
import tilelang.language as T

BH = T.dynamic("BH")
NC = T.dynamic("NC")
TP = T.dynamic("TP")
NG = T.dynamic("NG")


@T.prim_func
def titans_tl_fwd_a490a659cb11fddb(
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
        W0: T.Tensor((BH, 64, 64), "float32"),
        CKW0: T.Tensor((BH, NG, 64, 64), "float32"),
        S0: T.Tensor((BH, 64, 64), "float32"),
        CKS0: T.Tensor((BH, NG, 64, 64), "float32"),
        G0: T.Tensor((BH, 64, 64), "float32"),
        Y0: T.Tensor((BH, 64, 64), "float32"),
        YW0: T.Tensor((BH, 64, 64), "float32"),
        QK: T.Tensor((BH, 64, 64), "float32")):
    with T.Kernel(BH, threads=128) as bh:
        frag2 = T.alloc_fragment((32, 32), "float32")
        shared4 = T.alloc_shared((32, 32), "float32")
        shared5 = T.alloc_shared((32, 32), "float32")
        frag7 = T.alloc_fragment((32, 32), "float32")
        shared9 = T.alloc_shared((32, 32), "float32")
        shared10 = T.alloc_shared((32, 32), "float32")
        frag12 = T.alloc_fragment((32, 32), "float32")
        frag13 = T.alloc_fragment((32, 32), "float32")
        shared15 = T.alloc_shared((32, 32), "float32")
        shared16 = T.alloc_shared((32, 32), "float32")
        shared18 = T.alloc_shared((32, 32), "float32")
        shared19 = T.alloc_shared((32, 32), "float32")
        shared21 = T.alloc_shared((32, 32), "float32")
        shared22 = T.alloc_shared((32, 32), "float32")
        frag25 = T.alloc_fragment((32, 32), "float32")
        shared27 = T.alloc_shared((32, 32), "float32")
        shared28 = T.alloc_shared((32, 32), "float32")
        frag30 = T.alloc_fragment((32, 32), "float32")
        shared32 = T.alloc_shared((32, 32), "float32")
        shared33 = T.alloc_shared((32, 32), "float32")
        for n in T.serial(NC):
            t0 = n * 64
            if SLOT[n] >= 0:
                for i1, j1 in T.Parallel(64, 64):
                    CKW0[bh, SLOT[n], i1, j1] = W0[bh, i1, j1]
                    CKS0[bh, SLOT[n], i1, j1] = S0[bh, i1, j1]
                T.sync_threads()
            for mi3 in T.serial(2):
                for ni3 in T.serial(2):
                    T.clear(frag2)
                    for ki6 in T.Pipelined(2, num_stages=2):
                        T.copy(K[bh, t0 + mi3 * 32, ki6 * 32], shared4)
                        T.copy(W0[bh, 0 + ni3 * 32, ki6 * 32], shared5)
                        T.gemm(shared4, shared5, frag2, transpose_A=False, transpose_B=True)
                    for ii3, jj3 in T.Parallel(32, 32):
                        G0[bh, (mi3 * 32 + ii3), (ni3 * 32 + jj3)] = (frag2[ii3, jj3] - V[bh, t0 + (mi3 * 32 + ii3), (ni3 * 32 + jj3)])
            T.sync_threads()
            for mi8 in T.serial(2):
                for ni8 in T.serial(2):
                    T.clear(frag7)
                    for ki11 in T.Pipelined(2, num_stages=2):
                        T.copy(Q[bh, t0 + mi8 * 32, ki11 * 32], shared9)
                        T.copy(K[bh, t0 + ni8 * 32, ki11 * 32], shared10)
                        T.gemm(shared9, shared10, frag7, transpose_A=False, transpose_B=True)
                    for ii8, jj8 in T.Parallel(32, 32):
                        QK[bh, (mi8 * 32 + ii8), (ni8 * 32 + jj8)] = -CM[bh, n, (mi8 * 32 + ii8), (ni8 * 32 + jj8)] * frag7[ii8, jj8]
            T.sync_threads()
            for mi14 in T.serial(2):
                for ni14 in T.serial(2):
                    T.clear(frag12)
                    T.clear(frag13)
                    for ki17 in T.Pipelined(2, num_stages=2):
                        T.copy(Q[bh, t0 + mi14 * 32, ki17 * 32], shared15)
                        T.copy(W0[bh, 0 + ni14 * 32, ki17 * 32], shared16)
                        T.gemm(shared15, shared16, frag13, transpose_A=False, transpose_B=True)
                    for ii14, jj14 in T.Parallel(32, 32):
                        frag12[ii14, jj14] += CA[bh, n, (mi14 * 32 + ii14)] * frag13[ii14, jj14]
                    T.clear(frag13)
                    for ki20 in T.Pipelined(2, num_stages=2):
                        T.copy(Q[bh, t0 + mi14 * 32, ki20 * 32], shared18)
                        T.copy(S0[bh, 0 + ni14 * 32, ki20 * 32], shared19)
                        T.gemm(shared18, shared19, frag13, transpose_A=False, transpose_B=True)
                    for ii14, jj14 in T.Parallel(32, 32):
                        frag12[ii14, jj14] += CMO[bh, n, (mi14 * 32 + ii14)] * frag13[ii14, jj14]
                    for ki23 in T.Pipelined(2, num_stages=2):
                        T.copy(QK[bh, 0 + mi14 * 32, ki23 * 32], shared21)
                        T.copy(G0[bh, 0 + ki23 * 32, ni14 * 32], shared22)
                        T.gemm(shared21, shared22, frag12, transpose_A=False, transpose_B=False)
                    for ii14, jj14 in T.Parallel(32, 32):
                        O[bh, t0 + (mi14 * 32 + ii14), (ni14 * 32 + jj14)] = frag12[ii14, jj14]
            T.sync_threads()
            for i24, j24 in T.Parallel(64, 64):
                Y0[bh, i24, j24] = -CC[bh, n, i24] * K[bh, t0 + i24, j24]
                YW0[bh, i24, j24] = -CW[bh, n, i24] * K[bh, t0 + i24, j24]
            T.sync_threads()
            for mi26 in T.serial(2):
                for ni26 in T.serial(2):
                    for ii26, jj26 in T.Parallel(32, 32):
                        frag25[ii26, jj26] = W0[bh, (mi26 * 32 + ii26), (ni26 * 32 + jj26)] * SC[bh, n, 0] + SC[bh, n, 1] * S0[bh, (mi26 * 32 + ii26), (ni26 * 32 + jj26)]
                    for ki29 in T.Pipelined(2, num_stages=2):
                        T.copy(G0[bh, 0 + ki29 * 32, mi26 * 32], shared27)
                        T.copy(Y0[bh, 0 + ki29 * 32, ni26 * 32], shared28)
                        T.gemm(shared27, shared28, frag25, transpose_A=True, transpose_B=False)
                    for ii26, jj26 in T.Parallel(32, 32):
                        W0[bh, (mi26 * 32 + ii26), (ni26 * 32 + jj26)] = frag25[ii26, jj26]
            T.sync_threads()
            for mi31 in T.serial(2):
                for ni31 in T.serial(2):
                    for ii31, jj31 in T.Parallel(32, 32):
                        frag30[ii31, jj31] = SC[bh, n, 2] * S0[bh, (mi31 * 32 + ii31), (ni31 * 32 + jj31)]
                    for ki34 in T.Pipelined(2, num_stages=2):
                        T.copy(G0[bh, 0 + ki34 * 32, mi31 * 32], shared32)
                        T.copy(YW0[bh, 0 + ki34 * 32, ni31 * 32], shared33)
                        T.gemm(shared32, shared33, frag30, transpose_A=True, transpose_B=False)
                    for ii31, jj31 in T.Parallel(32, 32):
                        S0[bh, (mi31 * 32 + ii31), (ni31 * 32 + jj31)] = frag30[ii31, jj31]
            T.sync_threads()
