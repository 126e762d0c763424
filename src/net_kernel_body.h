/* net_kernel_body.h - one instruction-set version of the fused kernel; included by
 * net_kernel.c once per version with these defined:
 *   KF(name)  the version's function names     KTARGET  its target attribute
 *   KVEC      a vector of KW doubles            KMASK    the comparison result of KVEC
 *   KW        doubles per vector                KLV      vectors of lanes per pass
 * The lanes of a pass are KW * KLV moves; the outputs go KNV at a time (10, 4, 2),
 * with KLV * KNV accumulators held in registers.  No fused multiply-add: each
 * product and sum is rounded as in the reference path (README "Speed"). */

#define KLANES (KW * KLV)

/* da for a vector of lanes' dz (see gc_fused_kind); bad lanes ORed into *bad. */
static inline __attribute__((always_inline)) KTARGET KVEC
KF(act)(gc_fused_kind kind, KVEC dz, double c0, double c1, double c2, KMASK *bad)
{
	switch (kind) {
	case GC_FUSED_TANH: {
		KVEC d2 = dz * dz;
		KVEC tau = dz * (1.0 - d2 * (1.0 / 3.0 - d2 * (2.0 / 15.0)));
		return tau * c1 / (1.0 + c0 * tau);
	}
	case GC_FUSED_SIGMOID: {
		KVEC x = -dz;
		KVEC m = x * (1.0 + x / 2.0 * (1.0 + x / 3.0 * (1.0 + x / 4.0 * (1.0 + x / 5.0))));
		return c1 * m / (1.0 + c0 * m);
	}
	case GC_FUSED_PIECEWISE: {
		/* a NaN z is bad too: the reference's f(z) would not be c2 z */
		KVEC z = c0 + dz;
		KMASK was = c0 > 0 ? ~(KMASK){ 0 } : (KMASK){ 0 };
		*bad |= ((z > 0.0) ^ was) | (z != z);
		return c2 * z - c1;
	}
	case GC_FUSED_IDENTITY:
		break;
	}
	return dz;
}

/* Lanes p0 .. p0 + KLANES - 1, outputs vc .. vc + nv - 1. */
static inline __attribute__((always_inline)) KTARGET void
KF(pass)(const gc_fused_call *c, gc_fused_kind kind, const size_t nv, size_t p0, size_t vc)
{
	KVEC dv[KLV], acc[KLV][10];
	KMASK bad[KLV], none[KLV];
	const unsigned *ks = c->ks;
	const size_t nk = c->nk, nout = c->nout;
	size_t g = 0;

	for (size_t l = 0; l < KLV; l++) {
		memcpy(&dv[l], c->d + p0 + l * KW, sizeof dv[l]);
		bad[l] = (KMASK){ 0 };
		none[l] = (dv[l] == 0.0);
#pragma GCC unroll 10
		for (size_t v = 0; v < nv; v++)
			acc[l][v] = (KVEC){ 0 };
	}
	for (; g + 4 <= nk; g += 4) {
		KVEC da[4][KLV];
		const double *w[4];
#pragma GCC unroll 4
		for (size_t q = 0; q < 4; q++) {
			unsigned k = ks[g + q];
			w[q] = c->wl + (size_t)k * nout + vc;
#pragma GCC unroll 4
			for (size_t l = 0; l < KLV; l++) {
				da[q][l] = KF(act)(kind, dv[l] * c->wu[k], c->c0[k], c->c1[k], c->c2[k],
				                   &bad[l]);
				bad[l] |= (da[q][l] == 0.0) & ~none[l];
			}
		}
#pragma GCC unroll 10
		for (size_t v = 0; v < nv; v++)
#pragma GCC unroll 4
			for (size_t l = 0; l < KLV; l++)
				acc[l][v] = acc[l][v] + ((da[0][l] * w[0][v] + da[1][l] * w[1][v])
				                         + (da[2][l] * w[2][v] + da[3][l] * w[3][v]));
	}
	for (; g < nk; g++) {
		unsigned k = ks[g];
		const double *w = c->wl + (size_t)k * nout + vc;
#pragma GCC unroll 4
		for (size_t l = 0; l < KLV; l++) {
			KVEC da = KF(act)(kind, dv[l] * c->wu[k], c->c0[k], c->c1[k], c->c2[k], &bad[l]);
			bad[l] |= (da == 0.0) & ~none[l];
#pragma GCC unroll 10
			for (size_t v = 0; v < nv; v++)
				acc[l][v] = acc[l][v] + da * w[v];
		}
	}
	for (size_t l = 0; l < KLV; l++) {
#pragma GCC unroll 10
		for (size_t v = 0; v < nv; v++)
			memcpy(c->dz + (vc + v) * GC_FUSED_LANES + p0 + l * KW, &acc[l][v], sizeof acc[l][v]);
		if (vc == 0)
			for (size_t e = 0; e < KW; e++)
				if (bad[l][e] && p0 + l * KW + e < c->lanes)
					c->bad[p0 + l * KW + e] = 1;
	}
}

static inline __attribute__((always_inline)) KTARGET void
KF(run_kind)(const gc_fused_call *c, gc_fused_kind kind)
{
	for (size_t p0 = 0; p0 < c->lanes; p0 += KLANES) {
		size_t vc = 0;
		for (; vc + 10 <= c->nout; vc += 10)
			KF(pass)(c, kind, 10, p0, vc);
		for (; vc + 4 <= c->nout; vc += 4)
			KF(pass)(c, kind, 4, p0, vc);
		for (; vc + 2 <= c->nout; vc += 2)
			KF(pass)(c, kind, 2, p0, vc);
	}
}

KTARGET static void KF(run)(const gc_fused_call *c)
{
	switch (c->kind) {
	case GC_FUSED_TANH:
		KF(run_kind)(c, GC_FUSED_TANH);
		break;
	case GC_FUSED_SIGMOID:
		KF(run_kind)(c, GC_FUSED_SIGMOID);
		break;
	case GC_FUSED_PIECEWISE:
		KF(run_kind)(c, GC_FUSED_PIECEWISE);
		break;
	case GC_FUSED_IDENTITY:
		KF(run_kind)(c, GC_FUSED_IDENTITY);
		break;
	}
}

#undef KLANES
