"""Generated from rule 6b81f7aa599c3c1c: TileLang backward (gpu, D=64, chunk=64). Do not edit."""
import tilelang.language as T

BH = T.dynamic("BH")
NC = T.dynamic("NC")
TP = T.dynamic("TP")
NG = T.dynamic("NG")
GM = T.dynamic("GM")


@T.prim_func
def titans_tl_bwd_6b81f7aa599c3c1c(
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
        A0: T.Tensor((BH, 256, 64), "float32"),
        WE0: T.Tensor((BH, 256, 64), "float32"),
        DA0: T.Tensor((BH, 256, 64), "float32"),
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
        A1: T.Tensor((BH, 64, 256), "float32"),
        WE1: T.Tensor((BH, 64, 256), "float32"),
        DA1: T.Tensor((BH, 64, 256), "float32"),
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
        DQK: T.Tensor((BH, 64, 64), "float32"),
        KAP: T.Tensor((BH, 64), "float32"),
        RR: T.Tensor((BH, 64), "float32"),
        RM: T.Tensor((BH, 64), "float32"),
        CSQ: T.Tensor((BH, 256), "float32"),
        GR0: T.Tensor((BH, 64, 64), "float32"),
        GR1: T.Tensor((BH, 64, 64), "float32"),
        RDN: T.Tensor((BH, 64), "float32"),
        LAM: T.Tensor((BH, 2), "float32")):
    with T.Kernel(BH, threads=128) as bh:
        frag7 = T.alloc_fragment((32, 32), "float32")
        shared9 = T.alloc_shared((32, 32), "float32")
        shared10 = T.alloc_shared((32, 32), "float32")
        frag14 = T.alloc_fragment((32, 32), "float32")
        shared16 = T.alloc_shared((32, 32), "float32")
        shared17 = T.alloc_shared((32, 32), "float32")
        frag25 = T.alloc_fragment((32, 32), "float32")
        shared27 = T.alloc_shared((32, 32), "float32")
        shared28 = T.alloc_shared((32, 32), "float32")
        frag36 = T.alloc_fragment((32, 32), "float32")
        shared38 = T.alloc_shared((32, 32), "float32")
        shared39 = T.alloc_shared((32, 32), "float32")
        frag47 = T.alloc_fragment((32, 32), "float32")
        shared49 = T.alloc_shared((32, 32), "float32")
        shared50 = T.alloc_shared((32, 32), "float32")
        frag58 = T.alloc_fragment((32, 32), "float32")
        shared60 = T.alloc_shared((32, 32), "float32")
        shared61 = T.alloc_shared((32, 32), "float32")
        frag77 = T.alloc_fragment((32, 32), "float32")
        shared79 = T.alloc_shared((32, 32), "float32")
        shared80 = T.alloc_shared((32, 32), "float32")
        frag82 = T.alloc_fragment((32, 32), "float32")
        shared84 = T.alloc_shared((32, 32), "float32")
        shared85 = T.alloc_shared((32, 32), "float32")
        frag88 = T.alloc_fragment((32, 32), "float32")
        shared90 = T.alloc_shared((32, 32), "float32")
        shared91 = T.alloc_shared((32, 32), "float32")
        frag93 = T.alloc_fragment((32, 32), "float32")
        shared95 = T.alloc_shared((32, 32), "float32")
        shared96 = T.alloc_shared((32, 32), "float32")
        frag99 = T.alloc_fragment((32, 32), "float32")
        shared101 = T.alloc_shared((32, 32), "float32")
        shared102 = T.alloc_shared((32, 32), "float32")
        frag104 = T.alloc_fragment((32, 32), "float32")
        shared106 = T.alloc_shared((32, 32), "float32")
        shared107 = T.alloc_shared((32, 32), "float32")
        frag113 = T.alloc_fragment((32, 32), "float32")
        shared115 = T.alloc_shared((32, 32), "float32")
        shared116 = T.alloc_shared((32, 32), "float32")
        frag120 = T.alloc_fragment((32, 32), "float32")
        shared122 = T.alloc_shared((32, 32), "float32")
        shared123 = T.alloc_shared((32, 32), "float32")
        frag131 = T.alloc_fragment((32, 32), "float32")
        shared133 = T.alloc_shared((32, 32), "float32")
        shared134 = T.alloc_shared((32, 32), "float32")
        frag142 = T.alloc_fragment((32, 32), "float32")
        shared144 = T.alloc_shared((32, 32), "float32")
        shared145 = T.alloc_shared((32, 32), "float32")
        frag153 = T.alloc_fragment((32, 32), "float32")
        shared155 = T.alloc_shared((32, 32), "float32")
        shared156 = T.alloc_shared((32, 32), "float32")
        frag164 = T.alloc_fragment((32, 32), "float32")
        shared166 = T.alloc_shared((32, 32), "float32")
        shared167 = T.alloc_shared((32, 32), "float32")
        frag183 = T.alloc_fragment((32, 32), "float32")
        shared185 = T.alloc_shared((32, 32), "float32")
        shared186 = T.alloc_shared((32, 32), "float32")
        frag188 = T.alloc_fragment((32, 32), "float32")
        shared190 = T.alloc_shared((32, 32), "float32")
        shared191 = T.alloc_shared((32, 32), "float32")
        frag193 = T.alloc_fragment((32, 32), "float32")
        shared195 = T.alloc_shared((32, 32), "float32")
        shared196 = T.alloc_shared((32, 32), "float32")
        frag198 = T.alloc_fragment((32, 32), "float32")
        frag199 = T.alloc_fragment((32, 32), "float32")
        shared201 = T.alloc_shared((32, 32), "float32")
        shared202 = T.alloc_shared((32, 32), "float32")
        shared204 = T.alloc_shared((32, 32), "float32")
        shared205 = T.alloc_shared((32, 32), "float32")
        shared207 = T.alloc_shared((32, 32), "float32")
        shared208 = T.alloc_shared((32, 32), "float32")
        shared210 = T.alloc_shared((32, 32), "float32")
        shared211 = T.alloc_shared((32, 32), "float32")
        frag213 = T.alloc_fragment((32, 32), "float32")
        shared215 = T.alloc_shared((32, 32), "float32")
        shared216 = T.alloc_shared((32, 32), "float32")
        frag235 = T.alloc_fragment((32, 32), "float32")
        shared237 = T.alloc_shared((32, 32), "float32")
        shared238 = T.alloc_shared((32, 32), "float32")
        shared240 = T.alloc_shared((32, 32), "float32")
        shared241 = T.alloc_shared((32, 32), "float32")
        frag243 = T.alloc_fragment((32, 32), "float32")
        shared245 = T.alloc_shared((32, 32), "float32")
        shared246 = T.alloc_shared((32, 32), "float32")
        frag249 = T.alloc_fragment((32, 32), "float32")
        shared251 = T.alloc_shared((32, 32), "float32")
        shared252 = T.alloc_shared((32, 32), "float32")
        frag266 = T.alloc_fragment((32, 32), "float32")
        shared268 = T.alloc_shared((32, 32), "float32")
        shared269 = T.alloc_shared((32, 32), "float32")
        shared271 = T.alloc_shared((32, 32), "float32")
        shared272 = T.alloc_shared((32, 32), "float32")
        frag274 = T.alloc_fragment((32, 32), "float32")
        shared276 = T.alloc_shared((32, 32), "float32")
        shared277 = T.alloc_shared((32, 32), "float32")
        frag280 = T.alloc_fragment((32, 32), "float32")
        shared282 = T.alloc_shared((32, 32), "float32")
        shared283 = T.alloc_shared((32, 32), "float32")
        frag289 = T.alloc_fragment((32, 32), "float32")
        shared291 = T.alloc_shared((32, 32), "float32")
        shared292 = T.alloc_shared((32, 32), "float32")
        frag294 = T.alloc_fragment((32, 32), "float32")
        shared296 = T.alloc_shared((32, 32), "float32")
        shared297 = T.alloc_shared((32, 32), "float32")
        frag300 = T.alloc_fragment((32, 32), "float32")
        shared302 = T.alloc_shared((32, 32), "float32")
        shared303 = T.alloc_shared((32, 32), "float32")
        frag305 = T.alloc_fragment((32, 32), "float32")
        shared307 = T.alloc_shared((32, 32), "float32")
        shared308 = T.alloc_shared((32, 32), "float32")
        frag312 = T.alloc_fragment((32, 32), "float32")
        shared314 = T.alloc_shared((32, 32), "float32")
        shared315 = T.alloc_shared((32, 32), "float32")
        frag317 = T.alloc_fragment((32, 32), "float32")
        shared319 = T.alloc_shared((32, 32), "float32")
        shared320 = T.alloc_shared((32, 32), "float32")
        frag322 = T.alloc_fragment((32, 32), "float32")
        shared324 = T.alloc_shared((32, 32), "float32")
        shared325 = T.alloc_shared((32, 32), "float32")
        frag328 = T.alloc_fragment((32, 32), "float32")
        shared330 = T.alloc_shared((32, 32), "float32")
        shared331 = T.alloc_shared((32, 32), "float32")
        frag333 = T.alloc_fragment((32, 32), "float32")
        shared335 = T.alloc_shared((32, 32), "float32")
        shared336 = T.alloc_shared((32, 32), "float32")
        frag338 = T.alloc_fragment((32, 32), "float32")
        shared340 = T.alloc_shared((32, 32), "float32")
        shared341 = T.alloc_shared((32, 32), "float32")
        frag345 = T.alloc_fragment((32, 32), "float32")
        shared347 = T.alloc_shared((32, 32), "float32")
        shared348 = T.alloc_shared((32, 32), "float32")
        frag350 = T.alloc_fragment((32, 32), "float32")
        shared352 = T.alloc_shared((32, 32), "float32")
        shared353 = T.alloc_shared((32, 32), "float32")
        frag356 = T.alloc_fragment((32, 32), "float32")
        shared358 = T.alloc_shared((32, 32), "float32")
        shared359 = T.alloc_shared((32, 32), "float32")
        frag361 = T.alloc_fragment((32, 32), "float32")
        shared363 = T.alloc_shared((32, 32), "float32")
        shared364 = T.alloc_shared((32, 32), "float32")
        frag368 = T.alloc_fragment((32, 32), "float32")
        shared370 = T.alloc_shared((32, 32), "float32")
        shared371 = T.alloc_shared((32, 32), "float32")
        frag373 = T.alloc_fragment((32, 32), "float32")
        shared375 = T.alloc_shared((32, 32), "float32")
        shared376 = T.alloc_shared((32, 32), "float32")
        frag378 = T.alloc_fragment((32, 32), "float32")
        shared380 = T.alloc_shared((32, 32), "float32")
        shared381 = T.alloc_shared((32, 32), "float32")
        frag384 = T.alloc_fragment((32, 32), "float32")
        shared386 = T.alloc_shared((32, 32), "float32")
        shared387 = T.alloc_shared((32, 32), "float32")
        frag389 = T.alloc_fragment((32, 32), "float32")
        shared391 = T.alloc_shared((32, 32), "float32")
        shared392 = T.alloc_shared((32, 32), "float32")
        frag394 = T.alloc_fragment((32, 32), "float32")
        shared396 = T.alloc_shared((32, 32), "float32")
        shared397 = T.alloc_shared((32, 32), "float32")
        frag401 = T.alloc_fragment((32, 32), "float32")
        shared403 = T.alloc_shared((32, 32), "float32")
        shared404 = T.alloc_shared((32, 32), "float32")
        frag406 = T.alloc_fragment((32, 32), "float32")
        shared408 = T.alloc_shared((32, 32), "float32")
        shared409 = T.alloc_shared((32, 32), "float32")
        frag413 = T.alloc_fragment((32, 32), "float32")
        shared415 = T.alloc_shared((32, 32), "float32")
        shared416 = T.alloc_shared((32, 32), "float32")
        frag418 = T.alloc_fragment((32, 32), "float32")
        shared420 = T.alloc_shared((32, 32), "float32")
        shared421 = T.alloc_shared((32, 32), "float32")
        frag425 = T.alloc_fragment((32, 32), "float32")
        shared427 = T.alloc_shared((32, 32), "float32")
        shared428 = T.alloc_shared((32, 32), "float32")
        frag430 = T.alloc_fragment((32, 32), "float32")
        shared432 = T.alloc_shared((32, 32), "float32")
        shared433 = T.alloc_shared((32, 32), "float32")
        for gi in T.serial(NG):
            g = NG - 1 - gi
            for i1, j1 in T.Parallel(256, 64):
                W0[bh, i1, j1] = CKW0[bh, g, i1, j1]
                S0[bh, i1, j1] = CKS0[bh, g, i1, j1]
            T.sync_threads()
            for i2, j2 in T.Parallel(64, 256):
                W1[bh, i2, j2] = CKW1[bh, g, i2, j2]
                S1[bh, i2, j2] = CKS1[bh, g, i2, j2]
            T.sync_threads()
            for m1 in T.serial(NC):
                if m1 >= GLO[g] and m1 < GHI[g]:
                    t1 = m1 * 64
                    for i3, j3 in T.Parallel(256, 64):
                        GSTW0[bh, m1 - GLO[g], i3, j3] = W0[bh, i3, j3]
                        GSTS0[bh, m1 - GLO[g], i3, j3] = S0[bh, i3, j3]
                    T.sync_threads()
                    for i4, j4 in T.Parallel(64, 256):
                        GSTW1[bh, m1 - GLO[g], i4, j4] = W1[bh, i4, j4]
                        GSTS1[bh, m1 - GLO[g], i4, j4] = S1[bh, i4, j4]
                    T.sync_threads()
                    for i5, j5 in T.Parallel(256, 64):
                        WE0[bh, i5, j5] = W0[bh, i5, j5] + A0[bh, i5, j5]
                    T.sync_threads()
                    for i6, j6 in T.Parallel(64, 256):
                        WE1[bh, i6, j6] = W1[bh, i6, j6] + A1[bh, i6, j6]
                    T.sync_threads()
                    for mi8 in T.serial(2):
                        for ni8 in T.serial(8):
                            T.clear(frag7)
                            for ki11 in T.Pipelined(2, num_stages=2):
                                T.copy(K[bh, t1 + mi8 * 32, ki11 * 32], shared9)
                                T.copy(WE0[bh, 0 + ni8 * 32, ki11 * 32], shared10)
                                T.gemm(shared9, shared10, frag7, transpose_A=False, transpose_B=True)
                            for ii8, jj8 in T.Parallel(32, 32):
                                Z0[bh, (mi8 * 32 + ii8), (ni8 * 32 + jj8)] = frag7[ii8, jj8]
                                X1[bh, (mi8 * 32 + ii8), (ni8 * 32 + jj8)] = (frag7[ii8, jj8] * T.sigmoid(frag7[ii8, jj8]))
                    T.sync_threads()
                    for i12, j12 in T.Parallel(1, 64):
                        KAP[bh, j12] = 0.0
                    T.sync_threads()
                    for r13 in T.Parallel(64):
                        for c13 in T.serial(64):
                            KAP[bh, r13] += K[bh, t1 + r13, c13] * K[bh, t1 + r13, c13]
                    T.sync_threads()
                    for mi15 in T.serial(2):
                        for ni15 in T.serial(2):
                            T.clear(frag14)
                            for ki18 in T.Pipelined(8, num_stages=2):
                                T.copy(WE1[bh, 0 + mi15 * 32, ki18 * 32], shared16)
                                T.copy(WE1[bh, 0 + ni15 * 32, ki18 * 32], shared17)
                                T.gemm(shared16, shared17, frag14, transpose_A=False, transpose_B=True)
                            for ii15, jj15 in T.Parallel(32, 32):
                                GR0[bh, (mi15 * 32 + ii15), (ni15 * 32 + jj15)] = frag14[ii15, jj15]
                    T.sync_threads()
                    for i19, j19 in T.Parallel(1, 1):
                        LAM[bh, 0] = 0.0
                    T.sync_threads()
                    for i20, j20 in T.Parallel(1, 64):
                        RDN[bh, j20] = 0.0
                    T.sync_threads()
                    for r21 in T.Parallel(64):
                        for c21 in T.serial(64):
                            RDN[bh, r21] += GR0[bh, r21, c21] * GR0[bh, r21, c21]
                    T.sync_threads()
                    for z22 in T.Parallel(1):
                        for r22 in T.serial(64):
                            LAM[bh, 0] += RDN[bh, r22]
                    T.sync_threads()
                    for i23, j23 in T.Parallel(1, 1):
                        LAM[bh, 1] = T.log(T.max(T.sqrt(LAM[bh, 0]), 1e-30))
                    T.sync_threads()
                    for i24, j24 in T.Parallel(64, 64):
                        GR0[bh, i24, j24] = GR0[bh, i24, j24] / T.max(T.sqrt(LAM[bh, 0]), 1e-30)
                    T.sync_threads()
                    for mi26 in T.serial(2):
                        for ni26 in T.serial(2):
                            T.clear(frag25)
                            for ki29 in T.Pipelined(2, num_stages=2):
                                T.copy(GR0[bh, 0 + mi26 * 32, ki29 * 32], shared27)
                                T.copy(GR0[bh, 0 + ki29 * 32, ni26 * 32], shared28)
                                T.gemm(shared27, shared28, frag25, transpose_A=False, transpose_B=False)
                            for ii26, jj26 in T.Parallel(32, 32):
                                GR1[bh, (mi26 * 32 + ii26), (ni26 * 32 + jj26)] = frag25[ii26, jj26]
                    T.sync_threads()
                    for i30, j30 in T.Parallel(1, 1):
                        LAM[bh, 0] = 0.0
                    T.sync_threads()
                    for i31, j31 in T.Parallel(1, 64):
                        RDN[bh, j31] = 0.0
                    T.sync_threads()
                    for r32 in T.Parallel(64):
                        for c32 in T.serial(64):
                            RDN[bh, r32] += GR1[bh, r32, c32] * GR1[bh, r32, c32]
                    T.sync_threads()
                    for z33 in T.Parallel(1):
                        for r33 in T.serial(64):
                            LAM[bh, 0] += RDN[bh, r33]
                    T.sync_threads()
                    for i34, j34 in T.Parallel(1, 1):
                        LAM[bh, 1] = LAM[bh, 1] + T.log(T.max(T.sqrt(LAM[bh, 0]), 1e-30)) / 2.0
                    T.sync_threads()
                    for i35, j35 in T.Parallel(64, 64):
                        GR1[bh, i35, j35] = GR1[bh, i35, j35] / T.max(T.sqrt(LAM[bh, 0]), 1e-30)
                    T.sync_threads()
                    for mi37 in T.serial(2):
                        for ni37 in T.serial(2):
                            T.clear(frag36)
                            for ki40 in T.Pipelined(2, num_stages=2):
                                T.copy(GR1[bh, 0 + mi37 * 32, ki40 * 32], shared38)
                                T.copy(GR1[bh, 0 + ki40 * 32, ni37 * 32], shared39)
                                T.gemm(shared38, shared39, frag36, transpose_A=False, transpose_B=False)
                            for ii37, jj37 in T.Parallel(32, 32):
                                GR0[bh, (mi37 * 32 + ii37), (ni37 * 32 + jj37)] = frag36[ii37, jj37]
                    T.sync_threads()
                    for i41, j41 in T.Parallel(1, 1):
                        LAM[bh, 0] = 0.0
                    T.sync_threads()
                    for i42, j42 in T.Parallel(1, 64):
                        RDN[bh, j42] = 0.0
                    T.sync_threads()
                    for r43 in T.Parallel(64):
                        for c43 in T.serial(64):
                            RDN[bh, r43] += GR0[bh, r43, c43] * GR0[bh, r43, c43]
                    T.sync_threads()
                    for z44 in T.Parallel(1):
                        for r44 in T.serial(64):
                            LAM[bh, 0] += RDN[bh, r44]
                    T.sync_threads()
                    for i45, j45 in T.Parallel(1, 1):
                        LAM[bh, 1] = LAM[bh, 1] + T.log(T.max(T.sqrt(LAM[bh, 0]), 1e-30)) / 4.0
                    T.sync_threads()
                    for i46, j46 in T.Parallel(64, 64):
                        GR0[bh, i46, j46] = GR0[bh, i46, j46] / T.max(T.sqrt(LAM[bh, 0]), 1e-30)
                    T.sync_threads()
                    for mi48 in T.serial(2):
                        for ni48 in T.serial(2):
                            T.clear(frag47)
                            for ki51 in T.Pipelined(2, num_stages=2):
                                T.copy(GR0[bh, 0 + mi48 * 32, ki51 * 32], shared49)
                                T.copy(GR0[bh, 0 + ki51 * 32, ni48 * 32], shared50)
                                T.gemm(shared49, shared50, frag47, transpose_A=False, transpose_B=False)
                            for ii48, jj48 in T.Parallel(32, 32):
                                GR1[bh, (mi48 * 32 + ii48), (ni48 * 32 + jj48)] = frag47[ii48, jj48]
                    T.sync_threads()
                    for i52, j52 in T.Parallel(1, 1):
                        LAM[bh, 0] = 0.0
                    T.sync_threads()
                    for i53, j53 in T.Parallel(1, 64):
                        RDN[bh, j53] = 0.0
                    T.sync_threads()
                    for r54 in T.Parallel(64):
                        for c54 in T.serial(64):
                            RDN[bh, r54] += GR1[bh, r54, c54] * GR1[bh, r54, c54]
                    T.sync_threads()
                    for z55 in T.Parallel(1):
                        for r55 in T.serial(64):
                            LAM[bh, 0] += RDN[bh, r55]
                    T.sync_threads()
                    for i56, j56 in T.Parallel(1, 1):
                        LAM[bh, 1] = LAM[bh, 1] + T.log(T.max(T.sqrt(LAM[bh, 0]), 1e-30)) / 8.0
                    T.sync_threads()
                    for i57, j57 in T.Parallel(64, 64):
                        GR1[bh, i57, j57] = GR1[bh, i57, j57] / T.max(T.sqrt(LAM[bh, 0]), 1e-30)
                    T.sync_threads()
                    for mi59 in T.serial(2):
                        for ni59 in T.serial(2):
                            T.clear(frag58)
                            for ki62 in T.Pipelined(2, num_stages=2):
                                T.copy(GR1[bh, 0 + mi59 * 32, ki62 * 32], shared60)
                                T.copy(GR1[bh, 0 + ki62 * 32, ni59 * 32], shared61)
                                T.gemm(shared60, shared61, frag58, transpose_A=False, transpose_B=False)
                            for ii59, jj59 in T.Parallel(32, 32):
                                GR0[bh, (mi59 * 32 + ii59), (ni59 * 32 + jj59)] = frag58[ii59, jj59]
                    T.sync_threads()
                    for i63, j63 in T.Parallel(1, 1):
                        LAM[bh, 0] = 0.0
                    T.sync_threads()
                    for i64, j64 in T.Parallel(1, 64):
                        RDN[bh, j64] = 0.0
                    T.sync_threads()
                    for r65 in T.Parallel(64):
                        for c65 in T.serial(64):
                            RDN[bh, r65] += GR0[bh, r65, c65] * GR0[bh, r65, c65]
                    T.sync_threads()
                    for z66 in T.Parallel(1):
                        for r66 in T.serial(64):
                            LAM[bh, 0] += RDN[bh, r66]
                    T.sync_threads()
                    for i67, j67 in T.Parallel(1, 1):
                        LAM[bh, 1] = LAM[bh, 1] + T.log(T.max(T.sqrt(LAM[bh, 0]), 1e-30)) / 16.0
                    T.sync_threads()
                    for i68, j68 in T.Parallel(1, 1):
                        LAM[bh, 1] = T.exp(LAM[bh, 1])
                    T.sync_threads()
                    for i69, j69 in T.Parallel(1, 256):
                        CSQ[bh, j69] = 0.0
                    T.sync_threads()
                    for r70 in T.Parallel(256):
                        for c70 in T.serial(64):
                            CSQ[bh, r70] += WE1[bh, c70, r70] * WE1[bh, c70, r70]
                    T.sync_threads()
                    for i71, j71 in T.Parallel(1, 64):
                        RR[bh, j71] = 0.0
                        RM[bh, j71] = 0.0
                    T.sync_threads()
                    for r72 in T.Parallel(64):
                        for c72 in T.serial(256):
                            RR[bh, r72] += (T.sigmoid(Z0[bh, r72, c72]) * (1.0 + Z0[bh, r72, c72] * (1.0 - T.sigmoid(Z0[bh, r72, c72])))) * (T.sigmoid(Z0[bh, r72, c72]) * (1.0 + Z0[bh, r72, c72] * (1.0 - T.sigmoid(Z0[bh, r72, c72])))) * CSQ[bh, c72]
                    T.sync_threads()
                    for r73 in T.Parallel(64):
                        for c73 in T.serial(256):
                            RM[bh, r73] = T.max(RM[bh, r73], (T.sigmoid(Z0[bh, r73, c73]) * (1.0 + Z0[bh, r73, c73] * (1.0 - T.sigmoid(Z0[bh, r73, c73])))) * (T.sigmoid(Z0[bh, r73, c73]) * (1.0 + Z0[bh, r73, c73] * (1.0 - T.sigmoid(Z0[bh, r73, c73])))))
                    T.sync_threads()
                    for i74, j74 in T.Parallel(1, 64):
                        KAP[bh, j74] = KAP[bh, j74] * T.min(RR[bh, j74], LAM[bh, 1] * RM[bh, j74])
                    T.sync_threads()
                    for r75 in T.Parallel(64):
                        for c75 in T.serial(256):
                            KAP[bh, r75] += X1[bh, r75, c75] * X1[bh, r75, c75]
                    T.sync_threads()
                    for i76, j76 in T.Parallel(1, 64):
                        KAP[bh, j76] = 1.0 / T.max(KAP[bh, j76], 1.0)
                    T.sync_threads()
                    for mi78 in T.serial(2):
                        for ni78 in T.serial(2):
                            T.clear(frag77)
                            for ki81 in T.Pipelined(8, num_stages=2):
                                T.copy(X1[bh, 0 + mi78 * 32, ki81 * 32], shared79)
                                T.copy(WE1[bh, 0 + ni78 * 32, ki81 * 32], shared80)
                                T.gemm(shared79, shared80, frag77, transpose_A=False, transpose_B=True)
                            for ii78, jj78 in T.Parallel(32, 32):
                                G1[bh, (mi78 * 32 + ii78), (ni78 * 32 + jj78)] = (frag77[ii78, jj78] - V[bh, t1 + (mi78 * 32 + ii78), (ni78 * 32 + jj78)]) * KAP[bh, (mi78 * 32 + ii78)]
                    T.sync_threads()
                    for mi83 in T.serial(2):
                        for ni83 in T.serial(8):
                            T.clear(frag82)
                            for ki86 in T.Pipelined(2, num_stages=2):
                                T.copy(G1[bh, 0 + mi83 * 32, ki86 * 32], shared84)
                                T.copy(WE1[bh, 0 + ki86 * 32, ni83 * 32], shared85)
                                T.gemm(shared84, shared85, frag82, transpose_A=False, transpose_B=False)
                            for ii83, jj83 in T.Parallel(32, 32):
                                G0[bh, (mi83 * 32 + ii83), (ni83 * 32 + jj83)] = frag82[ii83, jj83] * (T.sigmoid(Z0[bh, (mi83 * 32 + ii83), (ni83 * 32 + jj83)]) * (1.0 + Z0[bh, (mi83 * 32 + ii83), (ni83 * 32 + jj83)] * (1.0 - T.sigmoid(Z0[bh, (mi83 * 32 + ii83), (ni83 * 32 + jj83)]))))
                    T.sync_threads()
                    for i87, j87 in T.Parallel(64, 64):
                        Y0[bh, i87, j87] = -CC[bh, m1, i87] * K[bh, t1 + i87, j87]
                        YW0[bh, i87, j87] = -CW[bh, m1, i87] * K[bh, t1 + i87, j87]
                    T.sync_threads()
                    for mi89 in T.serial(8):
                        for ni89 in T.serial(2):
                            for ii89, jj89 in T.Parallel(32, 32):
                                frag88[ii89, jj89] = W0[bh, (mi89 * 32 + ii89), (ni89 * 32 + jj89)] * SC[bh, m1, 0] + SC[bh, m1, 1] * S0[bh, (mi89 * 32 + ii89), (ni89 * 32 + jj89)]
                            for ki92 in T.Pipelined(2, num_stages=2):
                                T.copy(G0[bh, 0 + ki92 * 32, mi89 * 32], shared90)
                                T.copy(Y0[bh, 0 + ki92 * 32, ni89 * 32], shared91)
                                T.gemm(shared90, shared91, frag88, transpose_A=True, transpose_B=False)
                            for ii89, jj89 in T.Parallel(32, 32):
                                W0[bh, (mi89 * 32 + ii89), (ni89 * 32 + jj89)] = frag88[ii89, jj89]
                    T.sync_threads()
                    for mi94 in T.serial(8):
                        for ni94 in T.serial(2):
                            for ii94, jj94 in T.Parallel(32, 32):
                                frag93[ii94, jj94] = SC[bh, m1, 2] * S0[bh, (mi94 * 32 + ii94), (ni94 * 32 + jj94)]
                            for ki97 in T.Pipelined(2, num_stages=2):
                                T.copy(G0[bh, 0 + ki97 * 32, mi94 * 32], shared95)
                                T.copy(YW0[bh, 0 + ki97 * 32, ni94 * 32], shared96)
                                T.gemm(shared95, shared96, frag93, transpose_A=True, transpose_B=False)
                            for ii94, jj94 in T.Parallel(32, 32):
                                S0[bh, (mi94 * 32 + ii94), (ni94 * 32 + jj94)] = frag93[ii94, jj94]
                    T.sync_threads()
                    for i98, j98 in T.Parallel(64, 256):
                        Y1[bh, i98, j98] = -CC[bh, m1, i98] * X1[bh, 0 + i98, j98]
                        YW1[bh, i98, j98] = -CW[bh, m1, i98] * X1[bh, 0 + i98, j98]
                    T.sync_threads()
                    for mi100 in T.serial(2):
                        for ni100 in T.serial(8):
                            for ii100, jj100 in T.Parallel(32, 32):
                                frag99[ii100, jj100] = W1[bh, (mi100 * 32 + ii100), (ni100 * 32 + jj100)] * SC[bh, m1, 0] + SC[bh, m1, 1] * S1[bh, (mi100 * 32 + ii100), (ni100 * 32 + jj100)]
                            for ki103 in T.Pipelined(2, num_stages=2):
                                T.copy(G1[bh, 0 + ki103 * 32, mi100 * 32], shared101)
                                T.copy(Y1[bh, 0 + ki103 * 32, ni100 * 32], shared102)
                                T.gemm(shared101, shared102, frag99, transpose_A=True, transpose_B=False)
                            for ii100, jj100 in T.Parallel(32, 32):
                                W1[bh, (mi100 * 32 + ii100), (ni100 * 32 + jj100)] = frag99[ii100, jj100]
                    T.sync_threads()
                    for mi105 in T.serial(2):
                        for ni105 in T.serial(8):
                            for ii105, jj105 in T.Parallel(32, 32):
                                frag104[ii105, jj105] = SC[bh, m1, 2] * S1[bh, (mi105 * 32 + ii105), (ni105 * 32 + jj105)]
                            for ki108 in T.Pipelined(2, num_stages=2):
                                T.copy(G1[bh, 0 + ki108 * 32, mi105 * 32], shared106)
                                T.copy(YW1[bh, 0 + ki108 * 32, ni105 * 32], shared107)
                                T.gemm(shared106, shared107, frag104, transpose_A=True, transpose_B=False)
                            for ii105, jj105 in T.Parallel(32, 32):
                                S1[bh, (mi105 * 32 + ii105), (ni105 * 32 + jj105)] = frag104[ii105, jj105]
                    T.sync_threads()
            for m2 in T.serial(NC):
                n2 = NC - 1 - m2
                if n2 >= GLO[g] and n2 < GHI[g]:
                    t2 = n2 * 64
                    for i109, j109 in T.Parallel(256, 64):
                        W0[bh, i109, j109] = GSTW0[bh, n2 - GLO[g], i109, j109]
                        S0[bh, i109, j109] = GSTS0[bh, n2 - GLO[g], i109, j109]
                    T.sync_threads()
                    for i110, j110 in T.Parallel(64, 256):
                        W1[bh, i110, j110] = GSTW1[bh, n2 - GLO[g], i110, j110]
                        S1[bh, i110, j110] = GSTS1[bh, n2 - GLO[g], i110, j110]
                    T.sync_threads()
                    for i111, j111 in T.Parallel(256, 64):
                        WE0[bh, i111, j111] = W0[bh, i111, j111] + A0[bh, i111, j111]
                    T.sync_threads()
                    for i112, j112 in T.Parallel(64, 256):
                        WE1[bh, i112, j112] = W1[bh, i112, j112] + A1[bh, i112, j112]
                    T.sync_threads()
                    for mi114 in T.serial(2):
                        for ni114 in T.serial(8):
                            T.clear(frag113)
                            for ki117 in T.Pipelined(2, num_stages=2):
                                T.copy(K[bh, t2 + mi114 * 32, ki117 * 32], shared115)
                                T.copy(WE0[bh, 0 + ni114 * 32, ki117 * 32], shared116)
                                T.gemm(shared115, shared116, frag113, transpose_A=False, transpose_B=True)
                            for ii114, jj114 in T.Parallel(32, 32):
                                Z0[bh, (mi114 * 32 + ii114), (ni114 * 32 + jj114)] = frag113[ii114, jj114]
                                X1[bh, (mi114 * 32 + ii114), (ni114 * 32 + jj114)] = (frag113[ii114, jj114] * T.sigmoid(frag113[ii114, jj114]))
                    T.sync_threads()
                    for i118, j118 in T.Parallel(1, 64):
                        KAP[bh, j118] = 0.0
                    T.sync_threads()
                    for r119 in T.Parallel(64):
                        for c119 in T.serial(64):
                            KAP[bh, r119] += K[bh, t2 + r119, c119] * K[bh, t2 + r119, c119]
                    T.sync_threads()
                    for mi121 in T.serial(2):
                        for ni121 in T.serial(2):
                            T.clear(frag120)
                            for ki124 in T.Pipelined(8, num_stages=2):
                                T.copy(WE1[bh, 0 + mi121 * 32, ki124 * 32], shared122)
                                T.copy(WE1[bh, 0 + ni121 * 32, ki124 * 32], shared123)
                                T.gemm(shared122, shared123, frag120, transpose_A=False, transpose_B=True)
                            for ii121, jj121 in T.Parallel(32, 32):
                                GR0[bh, (mi121 * 32 + ii121), (ni121 * 32 + jj121)] = frag120[ii121, jj121]
                    T.sync_threads()
                    for i125, j125 in T.Parallel(1, 1):
                        LAM[bh, 0] = 0.0
                    T.sync_threads()
                    for i126, j126 in T.Parallel(1, 64):
                        RDN[bh, j126] = 0.0
                    T.sync_threads()
                    for r127 in T.Parallel(64):
                        for c127 in T.serial(64):
                            RDN[bh, r127] += GR0[bh, r127, c127] * GR0[bh, r127, c127]
                    T.sync_threads()
                    for z128 in T.Parallel(1):
                        for r128 in T.serial(64):
                            LAM[bh, 0] += RDN[bh, r128]
                    T.sync_threads()
                    for i129, j129 in T.Parallel(1, 1):
                        LAM[bh, 1] = T.log(T.max(T.sqrt(LAM[bh, 0]), 1e-30))
                    T.sync_threads()
                    for i130, j130 in T.Parallel(64, 64):
                        GR0[bh, i130, j130] = GR0[bh, i130, j130] / T.max(T.sqrt(LAM[bh, 0]), 1e-30)
                    T.sync_threads()
                    for mi132 in T.serial(2):
                        for ni132 in T.serial(2):
                            T.clear(frag131)
                            for ki135 in T.Pipelined(2, num_stages=2):
                                T.copy(GR0[bh, 0 + mi132 * 32, ki135 * 32], shared133)
                                T.copy(GR0[bh, 0 + ki135 * 32, ni132 * 32], shared134)
                                T.gemm(shared133, shared134, frag131, transpose_A=False, transpose_B=False)
                            for ii132, jj132 in T.Parallel(32, 32):
                                GR1[bh, (mi132 * 32 + ii132), (ni132 * 32 + jj132)] = frag131[ii132, jj132]
                    T.sync_threads()
                    for i136, j136 in T.Parallel(1, 1):
                        LAM[bh, 0] = 0.0
                    T.sync_threads()
                    for i137, j137 in T.Parallel(1, 64):
                        RDN[bh, j137] = 0.0
                    T.sync_threads()
                    for r138 in T.Parallel(64):
                        for c138 in T.serial(64):
                            RDN[bh, r138] += GR1[bh, r138, c138] * GR1[bh, r138, c138]
                    T.sync_threads()
                    for z139 in T.Parallel(1):
                        for r139 in T.serial(64):
                            LAM[bh, 0] += RDN[bh, r139]
                    T.sync_threads()
                    for i140, j140 in T.Parallel(1, 1):
                        LAM[bh, 1] = LAM[bh, 1] + T.log(T.max(T.sqrt(LAM[bh, 0]), 1e-30)) / 2.0
                    T.sync_threads()
                    for i141, j141 in T.Parallel(64, 64):
                        GR1[bh, i141, j141] = GR1[bh, i141, j141] / T.max(T.sqrt(LAM[bh, 0]), 1e-30)
                    T.sync_threads()
                    for mi143 in T.serial(2):
                        for ni143 in T.serial(2):
                            T.clear(frag142)
                            for ki146 in T.Pipelined(2, num_stages=2):
                                T.copy(GR1[bh, 0 + mi143 * 32, ki146 * 32], shared144)
                                T.copy(GR1[bh, 0 + ki146 * 32, ni143 * 32], shared145)
                                T.gemm(shared144, shared145, frag142, transpose_A=False, transpose_B=False)
                            for ii143, jj143 in T.Parallel(32, 32):
                                GR0[bh, (mi143 * 32 + ii143), (ni143 * 32 + jj143)] = frag142[ii143, jj143]
                    T.sync_threads()
                    for i147, j147 in T.Parallel(1, 1):
                        LAM[bh, 0] = 0.0
                    T.sync_threads()
                    for i148, j148 in T.Parallel(1, 64):
                        RDN[bh, j148] = 0.0
                    T.sync_threads()
                    for r149 in T.Parallel(64):
                        for c149 in T.serial(64):
                            RDN[bh, r149] += GR0[bh, r149, c149] * GR0[bh, r149, c149]
                    T.sync_threads()
                    for z150 in T.Parallel(1):
                        for r150 in T.serial(64):
                            LAM[bh, 0] += RDN[bh, r150]
                    T.sync_threads()
                    for i151, j151 in T.Parallel(1, 1):
                        LAM[bh, 1] = LAM[bh, 1] + T.log(T.max(T.sqrt(LAM[bh, 0]), 1e-30)) / 4.0
                    T.sync_threads()
                    for i152, j152 in T.Parallel(64, 64):
                        GR0[bh, i152, j152] = GR0[bh, i152, j152] / T.max(T.sqrt(LAM[bh, 0]), 1e-30)
                    T.sync_threads()
                    for mi154 in T.serial(2):
                        for ni154 in T.serial(2):
                            T.clear(frag153)
                            for ki157 in T.Pipelined(2, num_stages=2):
                                T.copy(GR0[bh, 0 + mi154 * 32, ki157 * 32], shared155)
                                T.copy(GR0[bh, 0 + ki157 * 32, ni154 * 32], shared156)
                                T.gemm(shared155, shared156, frag153, transpose_A=False, transpose_B=False)
                            for ii154, jj154 in T.Parallel(32, 32):
                                GR1[bh, (mi154 * 32 + ii154), (ni154 * 32 + jj154)] = frag153[ii154, jj154]
                    T.sync_threads()
                    for i158, j158 in T.Parallel(1, 1):
                        LAM[bh, 0] = 0.0
                    T.sync_threads()
                    for i159, j159 in T.Parallel(1, 64):
                        RDN[bh, j159] = 0.0
                    T.sync_threads()
                    for r160 in T.Parallel(64):
                        for c160 in T.serial(64):
                            RDN[bh, r160] += GR1[bh, r160, c160] * GR1[bh, r160, c160]
                    T.sync_threads()
                    for z161 in T.Parallel(1):
                        for r161 in T.serial(64):
                            LAM[bh, 0] += RDN[bh, r161]
                    T.sync_threads()
                    for i162, j162 in T.Parallel(1, 1):
                        LAM[bh, 1] = LAM[bh, 1] + T.log(T.max(T.sqrt(LAM[bh, 0]), 1e-30)) / 8.0
                    T.sync_threads()
                    for i163, j163 in T.Parallel(64, 64):
                        GR1[bh, i163, j163] = GR1[bh, i163, j163] / T.max(T.sqrt(LAM[bh, 0]), 1e-30)
                    T.sync_threads()
                    for mi165 in T.serial(2):
                        for ni165 in T.serial(2):
                            T.clear(frag164)
                            for ki168 in T.Pipelined(2, num_stages=2):
                                T.copy(GR1[bh, 0 + mi165 * 32, ki168 * 32], shared166)
                                T.copy(GR1[bh, 0 + ki168 * 32, ni165 * 32], shared167)
                                T.gemm(shared166, shared167, frag164, transpose_A=False, transpose_B=False)
                            for ii165, jj165 in T.Parallel(32, 32):
                                GR0[bh, (mi165 * 32 + ii165), (ni165 * 32 + jj165)] = frag164[ii165, jj165]
                    T.sync_threads()
                    for i169, j169 in T.Parallel(1, 1):
                        LAM[bh, 0] = 0.0
                    T.sync_threads()
                    for i170, j170 in T.Parallel(1, 64):
                        RDN[bh, j170] = 0.0
                    T.sync_threads()
                    for r171 in T.Parallel(64):
                        for c171 in T.serial(64):
                            RDN[bh, r171] += GR0[bh, r171, c171] * GR0[bh, r171, c171]
                    T.sync_threads()
                    for z172 in T.Parallel(1):
                        for r172 in T.serial(64):
                            LAM[bh, 0] += RDN[bh, r172]
                    T.sync_threads()
                    for i173, j173 in T.Parallel(1, 1):
                        LAM[bh, 1] = LAM[bh, 1] + T.log(T.max(T.sqrt(LAM[bh, 0]), 1e-30)) / 16.0
                    T.sync_threads()
                    for i174, j174 in T.Parallel(1, 1):
                        LAM[bh, 1] = T.exp(LAM[bh, 1])
                    T.sync_threads()
                    for i175, j175 in T.Parallel(1, 256):
                        CSQ[bh, j175] = 0.0
                    T.sync_threads()
                    for r176 in T.Parallel(256):
                        for c176 in T.serial(64):
                            CSQ[bh, r176] += WE1[bh, c176, r176] * WE1[bh, c176, r176]
                    T.sync_threads()
                    for i177, j177 in T.Parallel(1, 64):
                        RR[bh, j177] = 0.0
                        RM[bh, j177] = 0.0
                    T.sync_threads()
                    for r178 in T.Parallel(64):
                        for c178 in T.serial(256):
                            RR[bh, r178] += (T.sigmoid(Z0[bh, r178, c178]) * (1.0 + Z0[bh, r178, c178] * (1.0 - T.sigmoid(Z0[bh, r178, c178])))) * (T.sigmoid(Z0[bh, r178, c178]) * (1.0 + Z0[bh, r178, c178] * (1.0 - T.sigmoid(Z0[bh, r178, c178])))) * CSQ[bh, c178]
                    T.sync_threads()
                    for r179 in T.Parallel(64):
                        for c179 in T.serial(256):
                            RM[bh, r179] = T.max(RM[bh, r179], (T.sigmoid(Z0[bh, r179, c179]) * (1.0 + Z0[bh, r179, c179] * (1.0 - T.sigmoid(Z0[bh, r179, c179])))) * (T.sigmoid(Z0[bh, r179, c179]) * (1.0 + Z0[bh, r179, c179] * (1.0 - T.sigmoid(Z0[bh, r179, c179])))))
                    T.sync_threads()
                    for i180, j180 in T.Parallel(1, 64):
                        KAP[bh, j180] = KAP[bh, j180] * T.min(RR[bh, j180], LAM[bh, 1] * RM[bh, j180])
                    T.sync_threads()
                    for r181 in T.Parallel(64):
                        for c181 in T.serial(256):
                            KAP[bh, r181] += X1[bh, r181, c181] * X1[bh, r181, c181]
                    T.sync_threads()
                    for i182, j182 in T.Parallel(1, 64):
                        KAP[bh, j182] = 1.0 / T.max(KAP[bh, j182], 1.0)
                    T.sync_threads()
                    for mi184 in T.serial(2):
                        for ni184 in T.serial(2):
                            T.clear(frag183)
                            for ki187 in T.Pipelined(8, num_stages=2):
                                T.copy(X1[bh, 0 + mi184 * 32, ki187 * 32], shared185)
                                T.copy(WE1[bh, 0 + ni184 * 32, ki187 * 32], shared186)
                                T.gemm(shared185, shared186, frag183, transpose_A=False, transpose_B=True)
                            for ii184, jj184 in T.Parallel(32, 32):
                                G1[bh, (mi184 * 32 + ii184), (ni184 * 32 + jj184)] = (frag183[ii184, jj184] - V[bh, t2 + (mi184 * 32 + ii184), (ni184 * 32 + jj184)]) * KAP[bh, (mi184 * 32 + ii184)]
                    T.sync_threads()
                    for mi189 in T.serial(2):
                        for ni189 in T.serial(8):
                            T.clear(frag188)
                            for ki192 in T.Pipelined(2, num_stages=2):
                                T.copy(G1[bh, 0 + mi189 * 32, ki192 * 32], shared190)
                                T.copy(WE1[bh, 0 + ki192 * 32, ni189 * 32], shared191)
                                T.gemm(shared190, shared191, frag188, transpose_A=False, transpose_B=False)
                            for ii189, jj189 in T.Parallel(32, 32):
                                G0[bh, (mi189 * 32 + ii189), (ni189 * 32 + jj189)] = frag188[ii189, jj189] * (T.sigmoid(Z0[bh, (mi189 * 32 + ii189), (ni189 * 32 + jj189)]) * (1.0 + Z0[bh, (mi189 * 32 + ii189), (ni189 * 32 + jj189)] * (1.0 - T.sigmoid(Z0[bh, (mi189 * 32 + ii189), (ni189 * 32 + jj189)]))))
                                GWK1[bh, (mi189 * 32 + ii189), (ni189 * 32 + jj189)] = frag188[ii189, jj189]
                    T.sync_threads()
                    for mi194 in T.serial(2):
                        for ni194 in T.serial(2):
                            T.clear(frag193)
                            for ki197 in T.Pipelined(2, num_stages=2):
                                T.copy(Q[bh, t2 + mi194 * 32, ki197 * 32], shared195)
                                T.copy(K[bh, t2 + ni194 * 32, ki197 * 32], shared196)
                                T.gemm(shared195, shared196, frag193, transpose_A=False, transpose_B=True)
                            for ii194, jj194 in T.Parallel(32, 32):
                                QK[bh, (mi194 * 32 + ii194), (ni194 * 32 + jj194)] = -CM[bh, n2, (mi194 * 32 + ii194), (ni194 * 32 + jj194)] * frag193[ii194, jj194]
                                QKR0[bh, (mi194 * 32 + ii194), (ni194 * 32 + jj194)] = frag193[ii194, jj194]
                    T.sync_threads()
                    for mi200 in T.serial(2):
                        for ni200 in T.serial(8):
                            T.clear(frag198)
                            T.clear(frag199)
                            for ki203 in T.Pipelined(2, num_stages=2):
                                T.copy(Q[bh, t2 + mi200 * 32, ki203 * 32], shared201)
                                T.copy(W0[bh, 0 + ni200 * 32, ki203 * 32], shared202)
                                T.gemm(shared201, shared202, frag199, transpose_A=False, transpose_B=True)
                            for ii200, jj200 in T.Parallel(32, 32):
                                frag198[ii200, jj200] += CA[bh, n2, (mi200 * 32 + ii200)] * frag199[ii200, jj200]
                            T.clear(frag199)
                            for ki206 in T.Pipelined(2, num_stages=2):
                                T.copy(Q[bh, t2 + mi200 * 32, ki206 * 32], shared204)
                                T.copy(S0[bh, 0 + ni200 * 32, ki206 * 32], shared205)
                                T.gemm(shared204, shared205, frag199, transpose_A=False, transpose_B=True)
                            for ii200, jj200 in T.Parallel(32, 32):
                                frag198[ii200, jj200] += CMO[bh, n2, (mi200 * 32 + ii200)] * frag199[ii200, jj200]
                            for ki209 in T.Pipelined(2, num_stages=2):
                                T.copy(QK[bh, 0 + mi200 * 32, ki209 * 32], shared207)
                                T.copy(G0[bh, 0 + ki209 * 32, ni200 * 32], shared208)
                                T.gemm(shared207, shared208, frag198, transpose_A=False, transpose_B=False)
                            for ki212 in T.Pipelined(2, num_stages=2):
                                T.copy(Q[bh, t2 + mi200 * 32, ki212 * 32], shared210)
                                T.copy(A0[bh, 0 + ni200 * 32, ki212 * 32], shared211)
                                T.gemm(shared210, shared211, frag198, transpose_A=False, transpose_B=True)
                            for ii200, jj200 in T.Parallel(32, 32):
                                XQ1[bh, (mi200 * 32 + ii200), (ni200 * 32 + jj200)] = (frag198[ii200, jj200] * T.sigmoid(frag198[ii200, jj200]))
                                ZQ0[bh, (mi200 * 32 + ii200), (ni200 * 32 + jj200)] = frag198[ii200, jj200]
                    T.sync_threads()
                    for mi214 in T.serial(2):
                        for ni214 in T.serial(2):
                            T.clear(frag213)
                            for ki217 in T.Pipelined(8, num_stages=2):
                                T.copy(XQ1[bh, 0 + mi214 * 32, ki217 * 32], shared215)
                                T.copy(X1[bh, 0 + ni214 * 32, ki217 * 32], shared216)
                                T.gemm(shared215, shared216, frag213, transpose_A=False, transpose_B=True)
                            for ii214, jj214 in T.Parallel(32, 32):
                                QK[bh, (mi214 * 32 + ii214), (ni214 * 32 + jj214)] = -CM[bh, n2, (mi214 * 32 + ii214), (ni214 * 32 + jj214)] * frag213[ii214, jj214]
                                QKR1[bh, (mi214 * 32 + ii214), (ni214 * 32 + jj214)] = frag213[ii214, jj214]
                    T.sync_threads()
                    for i218, j218 in T.Parallel(64, 64):
                        Y0[bh, i218, j218] = -CC[bh, n2, i218] * K[bh, t2 + i218, j218]
                        YW0[bh, i218, j218] = -CW[bh, n2, i218] * K[bh, t2 + i218, j218]
                    T.sync_threads()
                    for i219, j219 in T.Parallel(64, 256):
                        Y1[bh, i219, j219] = -CC[bh, n2, i219] * X1[bh, 0 + i219, j219]
                        YW1[bh, i219, j219] = -CW[bh, n2, i219] * X1[bh, 0 + i219, j219]
                    T.sync_threads()
                    for i220, j220 in T.Parallel(1, 64):
                        DCC[bh, n2, j220] = 0.0
                        DCA[bh, n2, j220] = 0.0
                        DCMO[bh, n2, j220] = 0.0
                        DCW[bh, n2, j220] = 0.0
                    T.sync_threads()
                    for i221, j221 in T.Parallel(64, 64):
                        DCM[bh, n2, i221, j221] = 0.0
                    T.sync_threads()
                    for i222, j222 in T.Parallel(1, 3):
                        DSC[bh, n2, j222] = 0.0
                    T.sync_threads()
                    for i223, j223 in T.Parallel(256, 64):
                        DKEY0[bh, i223, j223] = 0.0
                    T.sync_threads()
                    for i224, j224 in T.Parallel(64, 256):
                        DKEY1[bh, i224, j224] = 0.0
                    T.sync_threads()
                    for i225, j225 in T.Parallel(1, 256):
                        RD[bh, j225] = 0.0
                    T.sync_threads()
                    for r226 in T.Parallel(256):
                        for c226 in T.serial(64):
                            RD[bh, r226] += DW0[bh, r226, c226] * W0[bh, r226, c226]
                    T.sync_threads()
                    for z227 in T.Parallel(1):
                        for r227 in T.serial(256):
                            DSC[bh, n2, 0] += RD[bh, r227]
                    T.sync_threads()
                    for i228, j228 in T.Parallel(1, 256):
                        RD[bh, j228] = 0.0
                    T.sync_threads()
                    for r229 in T.Parallel(256):
                        for c229 in T.serial(64):
                            RD[bh, r229] += DW0[bh, r229, c229] * S0[bh, r229, c229]
                    T.sync_threads()
                    for z230 in T.Parallel(1):
                        for r230 in T.serial(256):
                            DSC[bh, n2, 1] += RD[bh, r230]
                    T.sync_threads()
                    for i231, j231 in T.Parallel(1, 256):
                        RD[bh, j231] = 0.0
                    T.sync_threads()
                    for r232 in T.Parallel(256):
                        for c232 in T.serial(64):
                            RD[bh, r232] += DS0[bh, r232, c232] * S0[bh, r232, c232]
                    T.sync_threads()
                    for z233 in T.Parallel(1):
                        for r233 in T.serial(256):
                            DSC[bh, n2, 2] += RD[bh, r233]
                    T.sync_threads()
                    for i234, j234 in T.Parallel(256, 64):
                        DWN0[bh, i234, j234] = DW0[bh, i234, j234] * SC[bh, n2, 0]
                        DSN0[bh, i234, j234] = SC[bh, n2, 1] * DW0[bh, i234, j234] + SC[bh, n2, 2] * DS0[bh, i234, j234]
                    T.sync_threads()
                    for mi236 in T.serial(2):
                        for ni236 in T.serial(8):
                            T.clear(frag235)
                            for ki239 in T.Pipelined(2, num_stages=2):
                                T.copy(Y0[bh, 0 + mi236 * 32, ki239 * 32], shared237)
                                T.copy(DW0[bh, 0 + ni236 * 32, ki239 * 32], shared238)
                                T.gemm(shared237, shared238, frag235, transpose_A=False, transpose_B=True)
                            for ki242 in T.Pipelined(2, num_stages=2):
                                T.copy(YW0[bh, 0 + mi236 * 32, ki242 * 32], shared240)
                                T.copy(DS0[bh, 0 + ni236 * 32, ki242 * 32], shared241)
                                T.gemm(shared240, shared241, frag235, transpose_A=False, transpose_B=True)
                            for ii236, jj236 in T.Parallel(32, 32):
                                DG0[bh, (mi236 * 32 + ii236), (ni236 * 32 + jj236)] = frag235[ii236, jj236]
                    T.sync_threads()
                    for mi244 in T.serial(2):
                        for ni244 in T.serial(2):
                            T.clear(frag243)
                            for ki247 in T.Pipelined(8, num_stages=2):
                                T.copy(G0[bh, 0 + mi244 * 32, ki247 * 32], shared245)
                                T.copy(DW0[bh, 0 + ki247 * 32, ni244 * 32], shared246)
                                T.gemm(shared245, shared246, frag243, transpose_A=False, transpose_B=False)
                            for ii244, jj244 in T.Parallel(32, 32):
                                NDU[bh, (mi244 * 32 + ii244), (ni244 * 32 + jj244)] = frag243[ii244, jj244]
                    T.sync_threads()
                    for r248 in T.Parallel(64):
                        for c248 in T.serial(64):
                            DCC[bh, n2, r248] -= NDU[bh, r248, c248] * K[bh, t2 + r248, c248]
                    T.sync_threads()
                    for mi250 in T.serial(2):
                        for ni250 in T.serial(2):
                            T.clear(frag249)
                            for ki253 in T.Pipelined(8, num_stages=2):
                                T.copy(G0[bh, 0 + mi250 * 32, ki253 * 32], shared251)
                                T.copy(DS0[bh, 0 + ki253 * 32, ni250 * 32], shared252)
                                T.gemm(shared251, shared252, frag249, transpose_A=False, transpose_B=False)
                            for ii250, jj250 in T.Parallel(32, 32):
                                NDUS[bh, (mi250 * 32 + ii250), (ni250 * 32 + jj250)] = frag249[ii250, jj250]
                    T.sync_threads()
                    for r254 in T.Parallel(64):
                        for c254 in T.serial(64):
                            DCW[bh, n2, r254] -= NDUS[bh, r254, c254] * K[bh, t2 + r254, c254]
                    T.sync_threads()
                    for i255, j255 in T.Parallel(64, 64):
                        DX0[bh, i255, j255] = -CC[bh, n2, i255] * NDU[bh, i255, j255] - CW[bh, n2, i255] * NDUS[bh, i255, j255]
                    T.sync_threads()
                    for i256, j256 in T.Parallel(1, 64):
                        RD[bh, j256] = 0.0
                    T.sync_threads()
                    for r257 in T.Parallel(64):
                        for c257 in T.serial(256):
                            RD[bh, r257] += DW1[bh, r257, c257] * W1[bh, r257, c257]
                    T.sync_threads()
                    for z258 in T.Parallel(1):
                        for r258 in T.serial(64):
                            DSC[bh, n2, 0] += RD[bh, r258]
                    T.sync_threads()
                    for i259, j259 in T.Parallel(1, 64):
                        RD[bh, j259] = 0.0
                    T.sync_threads()
                    for r260 in T.Parallel(64):
                        for c260 in T.serial(256):
                            RD[bh, r260] += DW1[bh, r260, c260] * S1[bh, r260, c260]
                    T.sync_threads()
                    for z261 in T.Parallel(1):
                        for r261 in T.serial(64):
                            DSC[bh, n2, 1] += RD[bh, r261]
                    T.sync_threads()
                    for i262, j262 in T.Parallel(1, 64):
                        RD[bh, j262] = 0.0
                    T.sync_threads()
                    for r263 in T.Parallel(64):
                        for c263 in T.serial(256):
                            RD[bh, r263] += DS1[bh, r263, c263] * S1[bh, r263, c263]
                    T.sync_threads()
                    for z264 in T.Parallel(1):
                        for r264 in T.serial(64):
                            DSC[bh, n2, 2] += RD[bh, r264]
                    T.sync_threads()
                    for i265, j265 in T.Parallel(64, 256):
                        DWN1[bh, i265, j265] = DW1[bh, i265, j265] * SC[bh, n2, 0]
                        DSN1[bh, i265, j265] = SC[bh, n2, 1] * DW1[bh, i265, j265] + SC[bh, n2, 2] * DS1[bh, i265, j265]
                    T.sync_threads()
                    for mi267 in T.serial(2):
                        for ni267 in T.serial(2):
                            T.clear(frag266)
                            for ki270 in T.Pipelined(8, num_stages=2):
                                T.copy(Y1[bh, 0 + mi267 * 32, ki270 * 32], shared268)
                                T.copy(DW1[bh, 0 + ni267 * 32, ki270 * 32], shared269)
                                T.gemm(shared268, shared269, frag266, transpose_A=False, transpose_B=True)
                            for ki273 in T.Pipelined(8, num_stages=2):
                                T.copy(YW1[bh, 0 + mi267 * 32, ki273 * 32], shared271)
                                T.copy(DS1[bh, 0 + ni267 * 32, ki273 * 32], shared272)
                                T.gemm(shared271, shared272, frag266, transpose_A=False, transpose_B=True)
                            for ii267, jj267 in T.Parallel(32, 32):
                                DG1[bh, (mi267 * 32 + ii267), (ni267 * 32 + jj267)] = frag266[ii267, jj267]
                    T.sync_threads()
                    for mi275 in T.serial(2):
                        for ni275 in T.serial(8):
                            T.clear(frag274)
                            for ki278 in T.Pipelined(2, num_stages=2):
                                T.copy(G1[bh, 0 + mi275 * 32, ki278 * 32], shared276)
                                T.copy(DW1[bh, 0 + ki278 * 32, ni275 * 32], shared277)
                                T.gemm(shared276, shared277, frag274, transpose_A=False, transpose_B=False)
                            for ii275, jj275 in T.Parallel(32, 32):
                                NDU[bh, (mi275 * 32 + ii275), (ni275 * 32 + jj275)] = frag274[ii275, jj275]
                    T.sync_threads()
                    for r279 in T.Parallel(64):
                        for c279 in T.serial(256):
                            DCC[bh, n2, r279] -= NDU[bh, r279, c279] * X1[bh, 0 + r279, c279]
                    T.sync_threads()
                    for mi281 in T.serial(2):
                        for ni281 in T.serial(8):
                            T.clear(frag280)
                            for ki284 in T.Pipelined(2, num_stages=2):
                                T.copy(G1[bh, 0 + mi281 * 32, ki284 * 32], shared282)
                                T.copy(DS1[bh, 0 + ki284 * 32, ni281 * 32], shared283)
                                T.gemm(shared282, shared283, frag280, transpose_A=False, transpose_B=False)
                            for ii281, jj281 in T.Parallel(32, 32):
                                NDUS[bh, (mi281 * 32 + ii281), (ni281 * 32 + jj281)] = frag280[ii281, jj281]
                    T.sync_threads()
                    for r285 in T.Parallel(64):
                        for c285 in T.serial(256):
                            DCW[bh, n2, r285] -= NDUS[bh, r285, c285] * X1[bh, 0 + r285, c285]
                    T.sync_threads()
                    for i286, j286 in T.Parallel(64, 256):
                        DX1[bh, i286, j286] = -CC[bh, n2, i286] * NDU[bh, i286, j286] - CW[bh, n2, i286] * NDUS[bh, i286, j286]
                    T.sync_threads()
                    for i287, j287 in T.Parallel(64, 64):
                        DZQ1[bh, i287, j287] = DO[bh, t2 + i287, j287]
                    T.sync_threads()
                    for i288, j288 in T.Parallel(64, 256):
                        XA1[bh, i288, j288] = CA[bh, n2, i288] * XQ1[bh, 0 + i288, j288]
                        XM1[bh, i288, j288] = CMO[bh, n2, i288] * XQ1[bh, 0 + i288, j288]
                    T.sync_threads()
                    for mi290 in T.serial(2):
                        for ni290 in T.serial(8):
                            T.clear(frag289)
                            for ki293 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ1[bh, 0 + mi290 * 32, ki293 * 32], shared291)
                                T.copy(W1[bh, 0 + ki293 * 32, ni290 * 32], shared292)
                                T.gemm(shared291, shared292, frag289, transpose_A=False, transpose_B=False)
                            for ii290, jj290 in T.Parallel(32, 32):
                                NDU[bh, (mi290 * 32 + ii290), (ni290 * 32 + jj290)] = frag289[ii290, jj290]
                    T.sync_threads()
                    for mi295 in T.serial(2):
                        for ni295 in T.serial(8):
                            for ii295, jj295 in T.Parallel(32, 32):
                                frag294[ii295, jj295] = DWN1[bh, (mi295 * 32 + ii295), (ni295 * 32 + jj295)]
                            for ki298 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ1[bh, 0 + ki298 * 32, mi295 * 32], shared296)
                                T.copy(XA1[bh, 0 + ki298 * 32, ni295 * 32], shared297)
                                T.gemm(shared296, shared297, frag294, transpose_A=True, transpose_B=False)
                            for ii295, jj295 in T.Parallel(32, 32):
                                DWN1[bh, (mi295 * 32 + ii295), (ni295 * 32 + jj295)] = frag294[ii295, jj295]
                    T.sync_threads()
                    for r299 in T.Parallel(64):
                        for c299 in T.serial(256):
                            DCA[bh, n2, r299] += NDU[bh, r299, c299] * XQ1[bh, 0 + r299, c299]
                    T.sync_threads()
                    for mi301 in T.serial(2):
                        for ni301 in T.serial(8):
                            T.clear(frag300)
                            for ki304 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ1[bh, 0 + mi301 * 32, ki304 * 32], shared302)
                                T.copy(S1[bh, 0 + ki304 * 32, ni301 * 32], shared303)
                                T.gemm(shared302, shared303, frag300, transpose_A=False, transpose_B=False)
                            for ii301, jj301 in T.Parallel(32, 32):
                                NDUS[bh, (mi301 * 32 + ii301), (ni301 * 32 + jj301)] = frag300[ii301, jj301]
                    T.sync_threads()
                    for mi306 in T.serial(2):
                        for ni306 in T.serial(8):
                            for ii306, jj306 in T.Parallel(32, 32):
                                frag305[ii306, jj306] = DSN1[bh, (mi306 * 32 + ii306), (ni306 * 32 + jj306)]
                            for ki309 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ1[bh, 0 + ki309 * 32, mi306 * 32], shared307)
                                T.copy(XM1[bh, 0 + ki309 * 32, ni306 * 32], shared308)
                                T.gemm(shared307, shared308, frag305, transpose_A=True, transpose_B=False)
                            for ii306, jj306 in T.Parallel(32, 32):
                                DSN1[bh, (mi306 * 32 + ii306), (ni306 * 32 + jj306)] = frag305[ii306, jj306]
                    T.sync_threads()
                    for r310 in T.Parallel(64):
                        for c310 in T.serial(256):
                            DCMO[bh, n2, r310] += NDUS[bh, r310, c310] * XQ1[bh, 0 + r310, c310]
                    T.sync_threads()
                    for i311, j311 in T.Parallel(64, 256):
                        DXQ1[bh, i311, j311] = CA[bh, n2, i311] * NDU[bh, i311, j311] + CMO[bh, n2, i311] * NDUS[bh, i311, j311]
                    T.sync_threads()
                    for mi313 in T.serial(2):
                        for ni313 in T.serial(8):
                            for ii313, jj313 in T.Parallel(32, 32):
                                frag312[ii313, jj313] = DA1[bh, (mi313 * 32 + ii313), (ni313 * 32 + jj313)]
                            for ki316 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ1[bh, 0 + ki316 * 32, mi313 * 32], shared314)
                                T.copy(XQ1[bh, 0 + ki316 * 32, ni313 * 32], shared315)
                                T.gemm(shared314, shared315, frag312, transpose_A=True, transpose_B=False)
                            for ii313, jj313 in T.Parallel(32, 32):
                                DA1[bh, (mi313 * 32 + ii313), (ni313 * 32 + jj313)] = frag312[ii313, jj313]
                    T.sync_threads()
                    for mi318 in T.serial(2):
                        for ni318 in T.serial(8):
                            for ii318, jj318 in T.Parallel(32, 32):
                                frag317[ii318, jj318] = DXQ1[bh, (mi318 * 32 + ii318), (ni318 * 32 + jj318)]
                            for ki321 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ1[bh, 0 + mi318 * 32, ki321 * 32], shared319)
                                T.copy(A1[bh, 0 + ki321 * 32, ni318 * 32], shared320)
                                T.gemm(shared319, shared320, frag317, transpose_A=False, transpose_B=False)
                            for ii318, jj318 in T.Parallel(32, 32):
                                DXQ1[bh, (mi318 * 32 + ii318), (ni318 * 32 + jj318)] = frag317[ii318, jj318]
                    T.sync_threads()
                    for mi323 in T.serial(2):
                        for ni323 in T.serial(2):
                            T.clear(frag322)
                            for ki326 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ1[bh, 0 + mi323 * 32, ki326 * 32], shared324)
                                T.copy(G1[bh, 0 + ni323 * 32, ki326 * 32], shared325)
                                T.gemm(shared324, shared325, frag322, transpose_A=False, transpose_B=True)
                            for ii323, jj323 in T.Parallel(32, 32):
                                DMIX[bh, (mi323 * 32 + ii323), (ni323 * 32 + jj323)] = frag322[ii323, jj323]
                    T.sync_threads()
                    for i327, j327 in T.Parallel(64, 64):
                        QKN[bh, i327, j327] = -CM[bh, n2, i327, j327] * QKR1[bh, i327, j327]
                        DCM[bh, n2, i327, j327] = DCM[bh, n2, i327, j327] - DMIX[bh, i327, j327] * QKR1[bh, i327, j327]
                        DQK[bh, i327, j327] = -CM[bh, n2, i327, j327] * DMIX[bh, i327, j327]
                    T.sync_threads()
                    for mi329 in T.serial(2):
                        for ni329 in T.serial(2):
                            for ii329, jj329 in T.Parallel(32, 32):
                                frag328[ii329, jj329] = DG1[bh, (mi329 * 32 + ii329), (ni329 * 32 + jj329)]
                            for ki332 in T.Pipelined(2, num_stages=2):
                                T.copy(QKN[bh, 0 + ki332 * 32, mi329 * 32], shared330)
                                T.copy(DZQ1[bh, 0 + ki332 * 32, ni329 * 32], shared331)
                                T.gemm(shared330, shared331, frag328, transpose_A=True, transpose_B=False)
                            for ii329, jj329 in T.Parallel(32, 32):
                                DG1[bh, (mi329 * 32 + ii329), (ni329 * 32 + jj329)] = frag328[ii329, jj329]
                    T.sync_threads()
                    for mi334 in T.serial(2):
                        for ni334 in T.serial(8):
                            for ii334, jj334 in T.Parallel(32, 32):
                                frag333[ii334, jj334] = DXQ1[bh, (mi334 * 32 + ii334), (ni334 * 32 + jj334)]
                            for ki337 in T.Pipelined(2, num_stages=2):
                                T.copy(DQK[bh, 0 + mi334 * 32, ki337 * 32], shared335)
                                T.copy(X1[bh, 0 + ki337 * 32, ni334 * 32], shared336)
                                T.gemm(shared335, shared336, frag333, transpose_A=False, transpose_B=False)
                            for ii334, jj334 in T.Parallel(32, 32):
                                DXQ1[bh, (mi334 * 32 + ii334), (ni334 * 32 + jj334)] = frag333[ii334, jj334]
                    T.sync_threads()
                    for mi339 in T.serial(2):
                        for ni339 in T.serial(8):
                            for ii339, jj339 in T.Parallel(32, 32):
                                frag338[ii339, jj339] = DX1[bh, (mi339 * 32 + ii339), (ni339 * 32 + jj339)]
                            for ki342 in T.Pipelined(2, num_stages=2):
                                T.copy(DQK[bh, 0 + ki342 * 32, mi339 * 32], shared340)
                                T.copy(XQ1[bh, 0 + ki342 * 32, ni339 * 32], shared341)
                                T.gemm(shared340, shared341, frag338, transpose_A=True, transpose_B=False)
                            for ii339, jj339 in T.Parallel(32, 32):
                                DX1[bh, (mi339 * 32 + ii339), (ni339 * 32 + jj339)] = frag338[ii339, jj339]
                    T.sync_threads()
                    for i343, j343 in T.Parallel(64, 256):
                        DZQ0[bh, i343, j343] = DXQ1[bh, i343, j343] * (T.sigmoid(ZQ0[bh, i343, j343]) * (1.0 + ZQ0[bh, i343, j343] * (1.0 - T.sigmoid(ZQ0[bh, i343, j343]))))
                    T.sync_threads()
                    for i344, j344 in T.Parallel(64, 64):
                        XA0[bh, i344, j344] = CA[bh, n2, i344] * Q[bh, t2 + i344, j344]
                        XM0[bh, i344, j344] = CMO[bh, n2, i344] * Q[bh, t2 + i344, j344]
                    T.sync_threads()
                    for mi346 in T.serial(2):
                        for ni346 in T.serial(2):
                            T.clear(frag345)
                            for ki349 in T.Pipelined(8, num_stages=2):
                                T.copy(DZQ0[bh, 0 + mi346 * 32, ki349 * 32], shared347)
                                T.copy(W0[bh, 0 + ki349 * 32, ni346 * 32], shared348)
                                T.gemm(shared347, shared348, frag345, transpose_A=False, transpose_B=False)
                            for ii346, jj346 in T.Parallel(32, 32):
                                NDU[bh, (mi346 * 32 + ii346), (ni346 * 32 + jj346)] = frag345[ii346, jj346]
                    T.sync_threads()
                    for mi351 in T.serial(8):
                        for ni351 in T.serial(2):
                            for ii351, jj351 in T.Parallel(32, 32):
                                frag350[ii351, jj351] = DWN0[bh, (mi351 * 32 + ii351), (ni351 * 32 + jj351)]
                            for ki354 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ0[bh, 0 + ki354 * 32, mi351 * 32], shared352)
                                T.copy(XA0[bh, 0 + ki354 * 32, ni351 * 32], shared353)
                                T.gemm(shared352, shared353, frag350, transpose_A=True, transpose_B=False)
                            for ii351, jj351 in T.Parallel(32, 32):
                                DWN0[bh, (mi351 * 32 + ii351), (ni351 * 32 + jj351)] = frag350[ii351, jj351]
                    T.sync_threads()
                    for r355 in T.Parallel(64):
                        for c355 in T.serial(64):
                            DCA[bh, n2, r355] += NDU[bh, r355, c355] * Q[bh, t2 + r355, c355]
                    T.sync_threads()
                    for mi357 in T.serial(2):
                        for ni357 in T.serial(2):
                            T.clear(frag356)
                            for ki360 in T.Pipelined(8, num_stages=2):
                                T.copy(DZQ0[bh, 0 + mi357 * 32, ki360 * 32], shared358)
                                T.copy(S0[bh, 0 + ki360 * 32, ni357 * 32], shared359)
                                T.gemm(shared358, shared359, frag356, transpose_A=False, transpose_B=False)
                            for ii357, jj357 in T.Parallel(32, 32):
                                NDUS[bh, (mi357 * 32 + ii357), (ni357 * 32 + jj357)] = frag356[ii357, jj357]
                    T.sync_threads()
                    for mi362 in T.serial(8):
                        for ni362 in T.serial(2):
                            for ii362, jj362 in T.Parallel(32, 32):
                                frag361[ii362, jj362] = DSN0[bh, (mi362 * 32 + ii362), (ni362 * 32 + jj362)]
                            for ki365 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ0[bh, 0 + ki365 * 32, mi362 * 32], shared363)
                                T.copy(XM0[bh, 0 + ki365 * 32, ni362 * 32], shared364)
                                T.gemm(shared363, shared364, frag361, transpose_A=True, transpose_B=False)
                            for ii362, jj362 in T.Parallel(32, 32):
                                DSN0[bh, (mi362 * 32 + ii362), (ni362 * 32 + jj362)] = frag361[ii362, jj362]
                    T.sync_threads()
                    for r366 in T.Parallel(64):
                        for c366 in T.serial(64):
                            DCMO[bh, n2, r366] += NDUS[bh, r366, c366] * Q[bh, t2 + r366, c366]
                    T.sync_threads()
                    for i367, j367 in T.Parallel(64, 64):
                        DXQ0[bh, i367, j367] = CA[bh, n2, i367] * NDU[bh, i367, j367] + CMO[bh, n2, i367] * NDUS[bh, i367, j367]
                    T.sync_threads()
                    for mi369 in T.serial(8):
                        for ni369 in T.serial(2):
                            for ii369, jj369 in T.Parallel(32, 32):
                                frag368[ii369, jj369] = DA0[bh, (mi369 * 32 + ii369), (ni369 * 32 + jj369)]
                            for ki372 in T.Pipelined(2, num_stages=2):
                                T.copy(DZQ0[bh, 0 + ki372 * 32, mi369 * 32], shared370)
                                T.copy(Q[bh, t2 + ki372 * 32, ni369 * 32], shared371)
                                T.gemm(shared370, shared371, frag368, transpose_A=True, transpose_B=False)
                            for ii369, jj369 in T.Parallel(32, 32):
                                DA0[bh, (mi369 * 32 + ii369), (ni369 * 32 + jj369)] = frag368[ii369, jj369]
                    T.sync_threads()
                    for mi374 in T.serial(2):
                        for ni374 in T.serial(2):
                            for ii374, jj374 in T.Parallel(32, 32):
                                frag373[ii374, jj374] = DXQ0[bh, (mi374 * 32 + ii374), (ni374 * 32 + jj374)]
                            for ki377 in T.Pipelined(8, num_stages=2):
                                T.copy(DZQ0[bh, 0 + mi374 * 32, ki377 * 32], shared375)
                                T.copy(A0[bh, 0 + ki377 * 32, ni374 * 32], shared376)
                                T.gemm(shared375, shared376, frag373, transpose_A=False, transpose_B=False)
                            for ii374, jj374 in T.Parallel(32, 32):
                                DXQ0[bh, (mi374 * 32 + ii374), (ni374 * 32 + jj374)] = frag373[ii374, jj374]
                    T.sync_threads()
                    for mi379 in T.serial(2):
                        for ni379 in T.serial(2):
                            T.clear(frag378)
                            for ki382 in T.Pipelined(8, num_stages=2):
                                T.copy(DZQ0[bh, 0 + mi379 * 32, ki382 * 32], shared380)
                                T.copy(G0[bh, 0 + ni379 * 32, ki382 * 32], shared381)
                                T.gemm(shared380, shared381, frag378, transpose_A=False, transpose_B=True)
                            for ii379, jj379 in T.Parallel(32, 32):
                                DMIX[bh, (mi379 * 32 + ii379), (ni379 * 32 + jj379)] = frag378[ii379, jj379]
                    T.sync_threads()
                    for i383, j383 in T.Parallel(64, 64):
                        QKN[bh, i383, j383] = -CM[bh, n2, i383, j383] * QKR0[bh, i383, j383]
                        DCM[bh, n2, i383, j383] = DCM[bh, n2, i383, j383] - DMIX[bh, i383, j383] * QKR0[bh, i383, j383]
                        DQK[bh, i383, j383] = -CM[bh, n2, i383, j383] * DMIX[bh, i383, j383]
                    T.sync_threads()
                    for mi385 in T.serial(2):
                        for ni385 in T.serial(8):
                            for ii385, jj385 in T.Parallel(32, 32):
                                frag384[ii385, jj385] = DG0[bh, (mi385 * 32 + ii385), (ni385 * 32 + jj385)]
                            for ki388 in T.Pipelined(2, num_stages=2):
                                T.copy(QKN[bh, 0 + ki388 * 32, mi385 * 32], shared386)
                                T.copy(DZQ0[bh, 0 + ki388 * 32, ni385 * 32], shared387)
                                T.gemm(shared386, shared387, frag384, transpose_A=True, transpose_B=False)
                            for ii385, jj385 in T.Parallel(32, 32):
                                DG0[bh, (mi385 * 32 + ii385), (ni385 * 32 + jj385)] = frag384[ii385, jj385]
                    T.sync_threads()
                    for mi390 in T.serial(2):
                        for ni390 in T.serial(2):
                            for ii390, jj390 in T.Parallel(32, 32):
                                frag389[ii390, jj390] = DXQ0[bh, (mi390 * 32 + ii390), (ni390 * 32 + jj390)]
                            for ki393 in T.Pipelined(2, num_stages=2):
                                T.copy(DQK[bh, 0 + mi390 * 32, ki393 * 32], shared391)
                                T.copy(K[bh, t2 + ki393 * 32, ni390 * 32], shared392)
                                T.gemm(shared391, shared392, frag389, transpose_A=False, transpose_B=False)
                            for ii390, jj390 in T.Parallel(32, 32):
                                DXQ0[bh, (mi390 * 32 + ii390), (ni390 * 32 + jj390)] = frag389[ii390, jj390]
                    T.sync_threads()
                    for mi395 in T.serial(2):
                        for ni395 in T.serial(2):
                            for ii395, jj395 in T.Parallel(32, 32):
                                frag394[ii395, jj395] = DX0[bh, (mi395 * 32 + ii395), (ni395 * 32 + jj395)]
                            for ki398 in T.Pipelined(2, num_stages=2):
                                T.copy(DQK[bh, 0 + ki398 * 32, mi395 * 32], shared396)
                                T.copy(Q[bh, t2 + ki398 * 32, ni395 * 32], shared397)
                                T.gemm(shared396, shared397, frag394, transpose_A=True, transpose_B=False)
                            for ii395, jj395 in T.Parallel(32, 32):
                                DX0[bh, (mi395 * 32 + ii395), (ni395 * 32 + jj395)] = frag394[ii395, jj395]
                    T.sync_threads()
                    for i399, j399 in T.Parallel(64, 64):
                        DQ[bh, t2 + i399, j399] = DXQ0[bh, i399, j399]
                    T.sync_threads()
                    for i400, j400 in T.Parallel(64, 256):
                        DP0[bh, i400, j400] = DG0[bh, i400, j400] * (T.sigmoid(Z0[bh, i400, j400]) * (1.0 + Z0[bh, i400, j400] * (1.0 - T.sigmoid(Z0[bh, i400, j400]))))
                        DZK0[bh, i400, j400] = DG0[bh, i400, j400] * GWK1[bh, i400, j400] * (T.sigmoid(Z0[bh, i400, j400]) * (1.0 - T.sigmoid(Z0[bh, i400, j400])) * (Z0[bh, i400, j400] + 2.0 - 2.0 * Z0[bh, i400, j400] * T.sigmoid(Z0[bh, i400, j400])))
                    T.sync_threads()
                    for mi402 in T.serial(2):
                        for ni402 in T.serial(2):
                            for ii402, jj402 in T.Parallel(32, 32):
                                frag401[ii402, jj402] = DG1[bh, (mi402 * 32 + ii402), (ni402 * 32 + jj402)]
                            for ki405 in T.Pipelined(8, num_stages=2):
                                T.copy(DP0[bh, 0 + mi402 * 32, ki405 * 32], shared403)
                                T.copy(WE1[bh, 0 + ni402 * 32, ki405 * 32], shared404)
                                T.gemm(shared403, shared404, frag401, transpose_A=False, transpose_B=True)
                            for ii402, jj402 in T.Parallel(32, 32):
                                DG1[bh, (mi402 * 32 + ii402), (ni402 * 32 + jj402)] = frag401[ii402, jj402]
                    T.sync_threads()
                    for mi407 in T.serial(2):
                        for ni407 in T.serial(8):
                            for ii407, jj407 in T.Parallel(32, 32):
                                frag406[ii407, jj407] = DKEY1[bh, (mi407 * 32 + ii407), (ni407 * 32 + jj407)]
                            for ki410 in T.Pipelined(2, num_stages=2):
                                T.copy(G1[bh, 0 + ki410 * 32, mi407 * 32], shared408)
                                T.copy(DP0[bh, 0 + ki410 * 32, ni407 * 32], shared409)
                                T.gemm(shared408, shared409, frag406, transpose_A=True, transpose_B=False)
                            for ii407, jj407 in T.Parallel(32, 32):
                                DKEY1[bh, (mi407 * 32 + ii407), (ni407 * 32 + jj407)] = frag406[ii407, jj407]
                    T.sync_threads()
                    for i411, j411 in T.Parallel(64, 64):
                        DZK1[bh, i411, j411] = DG1[bh, i411, j411] * KAP[bh, i411]
                    T.sync_threads()
                    for i412, j412 in T.Parallel(64, 64):
                        DV[bh, t2 + i412, j412] = -DZK1[bh, i412, j412]
                    T.sync_threads()
                    for mi414 in T.serial(2):
                        for ni414 in T.serial(8):
                            for ii414, jj414 in T.Parallel(32, 32):
                                frag413[ii414, jj414] = DKEY1[bh, (mi414 * 32 + ii414), (ni414 * 32 + jj414)]
                            for ki417 in T.Pipelined(2, num_stages=2):
                                T.copy(DZK1[bh, 0 + ki417 * 32, mi414 * 32], shared415)
                                T.copy(X1[bh, 0 + ki417 * 32, ni414 * 32], shared416)
                                T.gemm(shared415, shared416, frag413, transpose_A=True, transpose_B=False)
                            for ii414, jj414 in T.Parallel(32, 32):
                                DKEY1[bh, (mi414 * 32 + ii414), (ni414 * 32 + jj414)] = frag413[ii414, jj414]
                    T.sync_threads()
                    for mi419 in T.serial(2):
                        for ni419 in T.serial(8):
                            for ii419, jj419 in T.Parallel(32, 32):
                                frag418[ii419, jj419] = DX1[bh, (mi419 * 32 + ii419), (ni419 * 32 + jj419)]
                            for ki422 in T.Pipelined(2, num_stages=2):
                                T.copy(DZK1[bh, 0 + mi419 * 32, ki422 * 32], shared420)
                                T.copy(WE1[bh, 0 + ki422 * 32, ni419 * 32], shared421)
                                T.gemm(shared420, shared421, frag418, transpose_A=False, transpose_B=False)
                            for ii419, jj419 in T.Parallel(32, 32):
                                DX1[bh, (mi419 * 32 + ii419), (ni419 * 32 + jj419)] = frag418[ii419, jj419]
                    T.sync_threads()
                    for i423, j423 in T.Parallel(64, 256):
                        DWN1[bh, i423, j423] = DWN1[bh, i423, j423] + DKEY1[bh, i423, j423]
                        DA1[bh, i423, j423] = DA1[bh, i423, j423] + DKEY1[bh, i423, j423]
                    T.sync_threads()
                    for i424, j424 in T.Parallel(64, 256):
                        DZK0[bh, i424, j424] = DZK0[bh, i424, j424] + DX1[bh, i424, j424] * (T.sigmoid(Z0[bh, i424, j424]) * (1.0 + Z0[bh, i424, j424] * (1.0 - T.sigmoid(Z0[bh, i424, j424]))))
                    T.sync_threads()
                    for mi426 in T.serial(8):
                        for ni426 in T.serial(2):
                            for ii426, jj426 in T.Parallel(32, 32):
                                frag425[ii426, jj426] = DKEY0[bh, (mi426 * 32 + ii426), (ni426 * 32 + jj426)]
                            for ki429 in T.Pipelined(2, num_stages=2):
                                T.copy(DZK0[bh, 0 + ki429 * 32, mi426 * 32], shared427)
                                T.copy(K[bh, t2 + ki429 * 32, ni426 * 32], shared428)
                                T.gemm(shared427, shared428, frag425, transpose_A=True, transpose_B=False)
                            for ii426, jj426 in T.Parallel(32, 32):
                                DKEY0[bh, (mi426 * 32 + ii426), (ni426 * 32 + jj426)] = frag425[ii426, jj426]
                    T.sync_threads()
                    for mi431 in T.serial(2):
                        for ni431 in T.serial(2):
                            for ii431, jj431 in T.Parallel(32, 32):
                                frag430[ii431, jj431] = DX0[bh, (mi431 * 32 + ii431), (ni431 * 32 + jj431)]
                            for ki434 in T.Pipelined(8, num_stages=2):
                                T.copy(DZK0[bh, 0 + mi431 * 32, ki434 * 32], shared432)
                                T.copy(WE0[bh, 0 + ki434 * 32, ni431 * 32], shared433)
                                T.gemm(shared432, shared433, frag430, transpose_A=False, transpose_B=False)
                            for ii431, jj431 in T.Parallel(32, 32):
                                DX0[bh, (mi431 * 32 + ii431), (ni431 * 32 + jj431)] = frag430[ii431, jj431]
                    T.sync_threads()
                    for i435, j435 in T.Parallel(256, 64):
                        DWN0[bh, i435, j435] = DWN0[bh, i435, j435] + DKEY0[bh, i435, j435]
                        DA0[bh, i435, j435] = DA0[bh, i435, j435] + DKEY0[bh, i435, j435]
                    T.sync_threads()
                    for i436, j436 in T.Parallel(64, 64):
                        DK[bh, t2 + i436, j436] = DX0[bh, i436, j436]
                    T.sync_threads()
                    for i437, j437 in T.Parallel(256, 64):
                        DW0[bh, i437, j437] = DWN0[bh, i437, j437]
                        DS0[bh, i437, j437] = DSN0[bh, i437, j437]
                    T.sync_threads()
                    for i438, j438 in T.Parallel(64, 256):
                        DW1[bh, i438, j438] = DWN1[bh, i438, j438]
                        DS1[bh, i438, j438] = DSN1[bh, i438, j438]
                    T.sync_threads()
