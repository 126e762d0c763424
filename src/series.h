/* series.h - power series of the moved-loss paths, as macros, so that the scalar
 * code (loss.c) and the kernel's vectors (net_kernel_body.inc) do the same
 * operations on the same constants and agree to the last bit. */
#ifndef GC_SERIES_H
#define GC_SERIES_H

/* Below this |x| the series of the moved-loss paths are exact to below a rounding
 * error of the result: tanh (net.c), expm1(x) to x^5/120 (the next term is below
 * 2e-18 |x|), log1p(x) to -x^6/6 (the next, below 2e-19 |x|); larger changes take
 * the library functions. */
#define GC_SMALL_DZ 1e-3

#define GC_EXPM1_SERIES(x) \
	((x) * (1.0 + (x) * (0.5 + (x) * (1.0 / 6.0 + (x) * (1.0 / 24.0 + (x) * (1.0 / 120.0))))))
#define GC_LOG1P_SERIES(x) ((x) * (1.0 + (x) * (-0.5 + (x) * (1.0 / 3.0 + (x) * \
	(-0.25 + (x) * (0.2 + (x) * (-1.0 / 6.0)))))))

#endif
