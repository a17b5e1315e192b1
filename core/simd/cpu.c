#include "core/simd/cpu.h"

#include <pthread.h>
#include <stdlib.h>

#if defined(__x86_64__)
#include <cpuid.h>

static int avx512_usable(void)
{
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !((ecx >> 27) & 1)) /* OSXSAVE */
        return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    /* XMM, YMM, opmask, upper ZMM and high ZMM state all enabled by the OS. */
    if ((lo & 0xe6) != 0xe6)
        return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
        return 0;
    int avx512f = (ebx >> 16) & 1, avx512bw = (ebx >> 30) & 1;
    return avx512f && avx512bw;
}

static int vpclmulqdq_present(void)
{
    unsigned eax, ebx, ecx, edx;
    return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && ((ecx >> 10) & 1);
}

#else

static int avx512_usable(void)
{
    return 0;
}

static int vpclmulqdq_present(void)
{
    return 0;
}

#endif

/* CPUID and XGETBV may trap to a hypervisor, so they are asked once per process. */
static int has_avx512, has_vpclmulqdq;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void cpu_probe(void)
{
    has_avx512 = avx512_usable();
    has_vpclmulqdq = has_avx512 && vpclmulqdq_present();
}

static void cpu_probe_once(void)
{
    if (pthread_once(&cpu_once, cpu_probe) != 0)
        abort(); /* only on misuse of pthread_once */
}

int dv_cpu_has_avx512(void)
{
    cpu_probe_once();
    return has_avx512;
}

int dv_cpu_has_vpclmulqdq(void)
{
    cpu_probe_once();
    return has_vpclmulqdq;
}
