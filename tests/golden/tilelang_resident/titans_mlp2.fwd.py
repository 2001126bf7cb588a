"""Generated from rule 2f689d34c8b059e9: TileLang forward chunk loop (gpu, D=64, chunk=64). Do not edit."""
import tilelang.language as T

BH = T.dynamic("BH")
NC = T.dynamic("NC")
TP = T.dynamic("TP")
NG = T.dynamic("NG")


@T.prim_func
def titans_tl_fwd_2f689d34c8b059e9(
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
        Z0: T.Tensor((BH, 64, 256), "float32"),
        X1: T.Tensor((BH, 64, 256), "float32"),
        XQ1: T.Tensor((BH, 64, 256), "float32"),
        G0: T.Tensor((BH, 64, 256), "float32"),
        Y0: T.Tensor((BH, 64, 64), "float32"),
        YW0: T.Tensor((BH, 64, 64), "float32"),
        G1: T.Tensor((BH, 64, 64), "float32"),
        Y1: T.Tensor((BH, 64, 256), "float32"),
        YW1: T.Tensor((BH, 64, 256), "float32"),
        QK: T.Tensor((BH, 64, 64), "float32")):
    with T.Kernel(BH, threads=128) as bh:
        frag3 = T.alloc_fragment((32, 32), "float32")
        shared5 = T.alloc_shared((32, 32), "float32")
        shared6 = T.alloc_shared((32, 32), "float32")
        frag8 = T.alloc_fragment((32, 32), "float32")
        shared10 = T.alloc_shared((32, 32), "float32")
        shared11 = T.alloc_shared((32, 32), "float32")
        frag13 = T.alloc_fragment((32, 32), "float32")
        shared15 = T.alloc_shared((32, 32), "float32")
        shared16 = T.alloc_shared((32, 32), "float32")
        frag18 = T.alloc_fragment((32, 32), "float32")
        shared20 = T.alloc_shared((32, 32), "float32")
        shared21 = T.alloc_shared((32, 32), "float32")
        frag23 = T.alloc_fragment((32, 32), "float32")
        frag24 = T.alloc_fragment((32, 32), "float32")
        shared26 = T.alloc_shared((32, 32), "float32")
        shared27 = T.alloc_shared((32, 32), "float32")
        shared29 = T.alloc_shared((32, 32), "float32")
        shared30 = T.alloc_shared((32, 32), "float32")
        shared32 = T.alloc_shared((32, 32), "float32")
        shared33 = T.alloc_shared((32, 32), "float32")
        frag35 = T.alloc_fragment((32, 32), "float32")
        shared37 = T.alloc_shared((32, 32), "float32")
        shared38 = T.alloc_shared((32, 32), "float32")
        frag40 = T.alloc_fragment((32, 32), "float32")
        frag41 = T.alloc_fragment((32, 32), "float32")
        shared43 = T.alloc_shared((32, 32), "float32")
        shared44 = T.alloc_shared((32, 32), "float32")
        shared46 = T.alloc_shared((32, 32), "float32")
        shared47 = T.alloc_shared((32, 32), "float32")
        shared49 = T.alloc_shared((32, 32), "float32")
        shared50 = T.alloc_shared((32, 32), "float32")
        frag53 = T.alloc_fragment((32, 32), "float32")
        shared55 = T.alloc_shared((32, 32), "float32")
        shared56 = T.alloc_shared((32, 32), "float32")
        frag58 = T.alloc_fragment((32, 32), "float32")
        shared60 = T.alloc_shared((32, 32), "float32")
        shared61 = T.alloc_shared((32, 32), "float32")
        frag64 = T.alloc_fragment((32, 32), "float32")
        shared66 = T.alloc_shared((32, 32), "float32")
        shared67 = T.alloc_shared((32, 32), "float32")
        frag69 = T.alloc_fragment((32, 32), "float32")
        shared71 = T.alloc_shared((32, 32), "float32")
        shared72 = T.alloc_shared((32, 32), "float32")
        W0_r = T.alloc_shared((256, 64), "float32")
        W1_r = T.alloc_shared((64, 256), "float32")
        G1_r = T.alloc_shared((64, 64), "float32")
        QK_r = T.alloc_shared((64, 64), "float32")
        T.copy(W0[bh, 0, 0], W0_r)
        T.copy(W1[bh, 0, 0], W1_r)
        T.copy(G1[bh, 0, 0], G1_r)
        T.copy(QK[bh, 0, 0], QK_r)
        T.sync_threads()
        for n in T.serial(NC):
            t0 = n * 64
            if SLOT[n] >= 0:
                for i1, j1 in T.Parallel(256, 64):
                    CKW0[bh, SLOT[n], i1, j1] = W0_r[i1, j1]
                    CKS0[bh, SLOT[n], i1, j1] = S0[bh, i1, j1]
                T.sync_threads()
                for i2, j2 in T.Parallel(64, 256):
                    CKW1[bh, SLOT[n], i2, j2] = W1_r[i2, j2]
                    CKS1[bh, SLOT[n], i2, j2] = S1[bh, i2, j2]
                T.sync_threads()
            for mi4 in T.serial(2):
                for ni4 in T.serial(8):
                    T.clear(frag3)
                    for ki7 in T.Pipelined(2, num_stages=2):
                        T.copy(K[bh, t0 + mi4 * 32, ki7 * 32], shared5)
                        T.copy(W0_r[0 + ni4 * 32, ki7 * 32], shared6)
                        T.gemm(shared5, shared6, frag3, transpose_A=False, transpose_B=True)
                    for ii4, jj4 in T.Parallel(32, 32):
                        Z0[bh, (mi4 * 32 + ii4), (ni4 * 32 + jj4)] = frag3[ii4, jj4]
                        X1[bh, (mi4 * 32 + ii4), (ni4 * 32 + jj4)] = (frag3[ii4, jj4] * T.sigmoid(frag3[ii4, jj4]))
            T.sync_threads()
            for mi9 in T.serial(2):
                for ni9 in T.serial(2):
                    T.clear(frag8)
                    for ki12 in T.Pipelined(8, num_stages=2):
                        T.copy(X1[bh, 0 + mi9 * 32, ki12 * 32], shared10)
                        T.copy(W1_r[0 + ni9 * 32, ki12 * 32], shared11)
                        T.gemm(shared10, shared11, frag8, transpose_A=False, transpose_B=True)
                    for ii9, jj9 in T.Parallel(32, 32):
                        G1_r[(mi9 * 32 + ii9), (ni9 * 32 + jj9)] = (frag8[ii9, jj9] - V[bh, t0 + (mi9 * 32 + ii9), (ni9 * 32 + jj9)])
            T.sync_threads()
            for mi14 in T.serial(2):
                for ni14 in T.serial(8):
                    T.clear(frag13)
                    for ki17 in T.Pipelined(2, num_stages=2):
                        T.copy(G1_r[0 + mi14 * 32, ki17 * 32], shared15)
                        T.copy(W1_r[0 + ki17 * 32, ni14 * 32], shared16)
                        T.gemm(shared15, shared16, frag13, transpose_A=False, transpose_B=False)
                    for ii14, jj14 in T.Parallel(32, 32):
                        G0[bh, (mi14 * 32 + ii14), (ni14 * 32 + jj14)] = frag13[ii14, jj14] * (T.sigmoid(Z0[bh, (mi14 * 32 + ii14), (ni14 * 32 + jj14)]) * (1.0 + Z0[bh, (mi14 * 32 + ii14), (ni14 * 32 + jj14)] * (1.0 - T.sigmoid(Z0[bh, (mi14 * 32 + ii14), (ni14 * 32 + jj14)]))))
            T.sync_threads()
            for mi19 in T.serial(2):
                for ni19 in T.serial(2):
                    T.clear(frag18)
                    for ki22 in T.Pipelined(2, num_stages=2):
                        T.copy(Q[bh, t0 + mi19 * 32, ki22 * 32], shared20)
                        T.copy(K[bh, t0 + ni19 * 32, ki22 * 32], shared21)
                        T.gemm(shared20, shared21, frag18, transpose_A=False, transpose_B=True)
                    for ii19, jj19 in T.Parallel(32, 32):
                        QK_r[(mi19 * 32 + ii19), (ni19 * 32 + jj19)] = -CM[bh, n, (mi19 * 32 + ii19), (ni19 * 32 + jj19)] * frag18[ii19, jj19]
            T.sync_threads()
            for mi25 in T.serial(2):
                for ni25 in T.serial(8):
                    T.clear(frag23)
                    T.clear(frag24)
                    for ki28 in T.Pipelined(2, num_stages=2):
                        T.copy(Q[bh, t0 + mi25 * 32, ki28 * 32], shared26)
                        T.copy(W0_r[0 + ni25 * 32, ki28 * 32], shared27)
                        T.gemm(shared26, shared27, frag24, transpose_A=False, transpose_B=True)
                    for ii25, jj25 in T.Parallel(32, 32):
                        frag23[ii25, jj25] += CA[bh, n, (mi25 * 32 + ii25)] * frag24[ii25, jj25]
                    T.clear(frag24)
                    for ki31 in T.Pipelined(2, num_stages=2):
                        T.copy(Q[bh, t0 + mi25 * 32, ki31 * 32], shared29)
                        T.copy(S0[bh, 0 + ni25 * 32, ki31 * 32], shared30)
                        T.gemm(shared29, shared30, frag24, transpose_A=False, transpose_B=True)
                    for ii25, jj25 in T.Parallel(32, 32):
                        frag23[ii25, jj25] += CMO[bh, n, (mi25 * 32 + ii25)] * frag24[ii25, jj25]
                    for ki34 in T.Pipelined(2, num_stages=2):
                        T.copy(QK_r[0 + mi25 * 32, ki34 * 32], shared32)
                        T.copy(G0[bh, 0 + ki34 * 32, ni25 * 32], shared33)
                        T.gemm(shared32, shared33, frag23, transpose_A=False, transpose_B=False)
                    for ii25, jj25 in T.Parallel(32, 32):
                        XQ1[bh, (mi25 * 32 + ii25), (ni25 * 32 + jj25)] = (frag23[ii25, jj25] * T.sigmoid(frag23[ii25, jj25]))
            T.sync_threads()
            for mi36 in T.serial(2):
                for ni36 in T.serial(2):
                    T.clear(frag35)
                    for ki39 in T.Pipelined(8, num_stages=2):
                        T.copy(XQ1[bh, 0 + mi36 * 32, ki39 * 32], shared37)
                        T.copy(X1[bh, 0 + ni36 * 32, ki39 * 32], shared38)
                        T.gemm(shared37, shared38, frag35, transpose_A=False, transpose_B=True)
                    for ii36, jj36 in T.Parallel(32, 32):
                        QK_r[(mi36 * 32 + ii36), (ni36 * 32 + jj36)] = -CM[bh, n, (mi36 * 32 + ii36), (ni36 * 32 + jj36)] * frag35[ii36, jj36]
            T.sync_threads()
            for mi42 in T.serial(2):
                for ni42 in T.serial(2):
                    T.clear(frag40)
                    T.clear(frag41)
                    for ki45 in T.Pipelined(8, num_stages=2):
                        T.copy(XQ1[bh, 0 + mi42 * 32, ki45 * 32], shared43)
                        T.copy(W1_r[0 + ni42 * 32, ki45 * 32], shared44)
                        T.gemm(shared43, shared44, frag41, transpose_A=False, transpose_B=True)
                    for ii42, jj42 in T.Parallel(32, 32):
                        frag40[ii42, jj42] += CA[bh, n, (mi42 * 32 + ii42)] * frag41[ii42, jj42]
                    T.clear(frag41)
                    for ki48 in T.Pipelined(8, num_stages=2):
                        T.copy(XQ1[bh, 0 + mi42 * 32, ki48 * 32], shared46)
                        T.copy(S1[bh, 0 + ni42 * 32, ki48 * 32], shared47)
                        T.gemm(shared46, shared47, frag41, transpose_A=False, transpose_B=True)
                    for ii42, jj42 in T.Parallel(32, 32):
                        frag40[ii42, jj42] += CMO[bh, n, (mi42 * 32 + ii42)] * frag41[ii42, jj42]
                    for ki51 in T.Pipelined(2, num_stages=2):
                        T.copy(QK_r[0 + mi42 * 32, ki51 * 32], shared49)
                        T.copy(G1_r[0 + ki51 * 32, ni42 * 32], shared50)
                        T.gemm(shared49, shared50, frag40, transpose_A=False, transpose_B=False)
                    for ii42, jj42 in T.Parallel(32, 32):
                        O[bh, t0 + (mi42 * 32 + ii42), (ni42 * 32 + jj42)] = frag40[ii42, jj42]
            T.sync_threads()
            for i52, j52 in T.Parallel(64, 64):
                Y0[bh, i52, j52] = -CC[bh, n, i52] * K[bh, t0 + i52, j52]
                YW0[bh, i52, j52] = -CW[bh, n, i52] * K[bh, t0 + i52, j52]
            T.sync_threads()
            for mi54 in T.serial(8):
                for ni54 in T.serial(2):
                    for ii54, jj54 in T.Parallel(32, 32):
                        frag53[ii54, jj54] = W0_r[(mi54 * 32 + ii54), (ni54 * 32 + jj54)] * SC[bh, n, 0] + SC[bh, n, 1] * S0[bh, (mi54 * 32 + ii54), (ni54 * 32 + jj54)]
                    for ki57 in T.Pipelined(2, num_stages=2):
                        T.copy(G0[bh, 0 + ki57 * 32, mi54 * 32], shared55)
                        T.copy(Y0[bh, 0 + ki57 * 32, ni54 * 32], shared56)
                        T.gemm(shared55, shared56, frag53, transpose_A=True, transpose_B=False)
                    for ii54, jj54 in T.Parallel(32, 32):
                        W0_r[(mi54 * 32 + ii54), (ni54 * 32 + jj54)] = frag53[ii54, jj54]
            T.sync_threads()
            for mi59 in T.serial(8):
                for ni59 in T.serial(2):
                    for ii59, jj59 in T.Parallel(32, 32):
                        frag58[ii59, jj59] = SC[bh, n, 2] * S0[bh, (mi59 * 32 + ii59), (ni59 * 32 + jj59)]
                    for ki62 in T.Pipelined(2, num_stages=2):
                        T.copy(G0[bh, 0 + ki62 * 32, mi59 * 32], shared60)
                        T.copy(YW0[bh, 0 + ki62 * 32, ni59 * 32], shared61)
                        T.gemm(shared60, shared61, frag58, transpose_A=True, transpose_B=False)
                    for ii59, jj59 in T.Parallel(32, 32):
                        S0[bh, (mi59 * 32 + ii59), (ni59 * 32 + jj59)] = frag58[ii59, jj59]
            T.sync_threads()
            for i63, j63 in T.Parallel(64, 256):
                Y1[bh, i63, j63] = -CC[bh, n, i63] * X1[bh, 0 + i63, j63]
                YW1[bh, i63, j63] = -CW[bh, n, i63] * X1[bh, 0 + i63, j63]
            T.sync_threads()
            for mi65 in T.serial(2):
                for ni65 in T.serial(8):
                    for ii65, jj65 in T.Parallel(32, 32):
                        frag64[ii65, jj65] = W1_r[(mi65 * 32 + ii65), (ni65 * 32 + jj65)] * SC[bh, n, 0] + SC[bh, n, 1] * S1[bh, (mi65 * 32 + ii65), (ni65 * 32 + jj65)]
                    for ki68 in T.Pipelined(2, num_stages=2):
                        T.copy(G1_r[0 + ki68 * 32, mi65 * 32], shared66)
                        T.copy(Y1[bh, 0 + ki68 * 32, ni65 * 32], shared67)
                        T.gemm(shared66, shared67, frag64, transpose_A=True, transpose_B=False)
                    for ii65, jj65 in T.Parallel(32, 32):
                        W1_r[(mi65 * 32 + ii65), (ni65 * 32 + jj65)] = frag64[ii65, jj65]
            T.sync_threads()
            for mi70 in T.serial(2):
                for ni70 in T.serial(8):
                    for ii70, jj70 in T.Parallel(32, 32):
                        frag69[ii70, jj70] = SC[bh, n, 2] * S1[bh, (mi70 * 32 + ii70), (ni70 * 32 + jj70)]
                    for ki73 in T.Pipelined(2, num_stages=2):
                        T.copy(G1_r[0 + ki73 * 32, mi70 * 32], shared71)
                        T.copy(YW1[bh, 0 + ki73 * 32, ni70 * 32], shared72)
                        T.gemm(shared71, shared72, frag69, transpose_A=True, transpose_B=False)
                    for ii70, jj70 in T.Parallel(32, 32):
                        S1[bh, (mi70 * 32 + ii70), (ni70 * 32 + jj70)] = frag69[ii70, jj70]
            T.sync_threads()
        T.sync_threads()
        T.copy(W0_r, W0[bh, 0, 0])
        T.copy(W1_r, W1[bh, 0, 0])
        T.copy(G1_r, G1[bh, 0, 0])
        T.copy(QK_r, QK[bh, 0, 0])
