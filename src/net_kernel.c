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

gc_lanes_fn gc_fused_lanes(gc_kernel_isa isa)
{
	if (isa == GC_KERNEL_AUTO)
		gc_fused_kernel(isa, &isa);
	if (!gc_fused_available(isa))
		return NULL;
	switch (isa) {
	case GC_KERNEL_GENERIC:
		return generic_lanes;
#ifdef GC_X86
	case GC_KERNEL_AVX2:
		return avx2_lanes;
	case GC_KERNEL_AVX512:
		return avx512_lanes;
#endif
	default:
		return NULL;
	}
}

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

gc_fused_fn gc_fused_kernel(gc_kernel_isa isa, gc_kernel_isa *chosen)
{
	if (isa == GC_KERNEL_AUTO)
		isa = gc_fused_available(GC_KERNEL_AVX512) ? GC_KERNEL_AVX512
		    : gc_fused_available(GC_KERNEL_AVX2) ? GC_KERNEL_AVX2 : GC_KERNEL_GENERIC;
	if (chosen)
		*chosen = isa;
	if (!gc_fused_available(isa))
		return NULL;
	switch (isa) {
	case GC_KERNEL_GENERIC:
		return generic_run;
#ifdef GC_X86
	case GC_KERNEL_AVX2:
		return avx2_run;
	case GC_KERNEL_AVX512:
		return avx512_run;
#endif
	default:
		return NULL;
	}
}
