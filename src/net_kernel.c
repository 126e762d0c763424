/* net_kernel.c - the fused kernel of the moved-loss hook in three instruction-set
 * versions (AVX-512, AVX2, plain), chosen when a net is created (README "Speed").
 * GCC's vector extensions give one source for all three; the versions differ in
 * vector width and in how many lanes and outputs a pass keeps in registers. */
#include <string.h>
#include "net_kernel.h"
#include "series.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define GC_X86 1
#endif

#define KF(name) generic_##name
#define KTARGET
#define KW 2
#define KLV 2
typedef double gv2d __attribute__((vector_size(16)));
typedef long long gv2l __attribute__((vector_size(16)));
#define KVEC gv2d
#define KMASK gv2l
#include "net_kernel_body.inc"
#undef KF
#undef KTARGET
#undef KW
#undef KLV
#undef KVEC
#undef KMASK

#ifdef GC_X86
#define KF(name) avx2_##name
#define KTARGET __attribute__((target("avx2")))
#define KW 4
#define KLV 1
typedef double gv4d __attribute__((vector_size(32)));
typedef long long gv4l __attribute__((vector_size(32)));
#define KVEC gv4d
#define KMASK gv4l
#include "net_kernel_body.inc"
#undef KF
#undef KTARGET
#undef KW
#undef KLV
#undef KVEC
#undef KMASK

#define KF(name) avx512_##name
#define KTARGET __attribute__((target("avx512f")))
#define KW 8
#define KLV 2
typedef double gv8d __attribute__((vector_size(64)));
typedef long long gv8l __attribute__((vector_size(64)));
#define KVEC gv8d
#define KMASK gv8l
#include "net_kernel_body.inc"
#undef KF
#undef KTARGET
#undef KW
#undef KLV
#undef KVEC
#undef KMASK
#endif

int gc_fused_available(gc_kernel_isa isa)
{
	switch (isa) {
	case GC_KERNEL_AUTO:
	case GC_KERNEL_REFERENCE:
	case GC_KERNEL_GENERIC:
		return 1;
#ifdef GC_X86
	case GC_KERNEL_AVX2:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2");
	case GC_KERNEL_AVX512:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx512f");
#else
	default:
		break;
#endif
	}
	return 0;
}

int gc_fused_kernel(gc_kernel_isa isa, gc_kernel_isa *chosen, gc_kernel *k)
{
	static const gc_kernel none;
	static const gc_kernel generic = { generic_run, generic_lanes, generic_layer,
	                                   generic_delta };
#ifdef GC_X86
	static const gc_kernel avx2 = { avx2_run, avx2_lanes, avx2_layer, avx2_delta };
	static const gc_kernel avx512 = { avx512_run, avx512_lanes, avx512_layer,
	                                  avx512_delta };
#endif

	if (isa == GC_KERNEL_AUTO)
		isa = gc_fused_available(GC_KERNEL_AVX512) ? GC_KERNEL_AVX512
		    : gc_fused_available(GC_KERNEL_AVX2) ? GC_KERNEL_AVX2 : GC_KERNEL_GENERIC;
	if (chosen)
		*chosen = isa;
	*k = none;
	if (!gc_fused_available(isa))
		return -1;
	switch (isa) {
	case GC_KERNEL_GENERIC:
		*k = generic;
		return 0;
#ifdef GC_X86
	case GC_KERNEL_AVX2:
		*k = avx2;
		return 0;
	case GC_KERNEL_AVX512:
		*k = avx512;
		return 0;
#endif
	default:
		return -1;
	}
}
