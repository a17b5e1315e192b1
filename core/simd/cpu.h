/*
 * cpu: what this processor and its operating system let dv run, asked once of
 * CPUID and XGETBV, so engines written for wider registers can be chosen at run time.
 */
#ifndef DV_CPU_H
#define DV_CPU_H

#include "core/base/error.h"

/** 1 if AVX-512 F and BW can run here: the CPU has them and the OS saves the zmm state. */
DV_NODISCARD int dv_cpu_has_avx512(void);

/** 1 if VPCLMULQDQ (carry-less multiplies on 512-bit registers) can run here: AVX-512
 *  as above, and the CPU has it. */
DV_NODISCARD int dv_cpu_has_vpclmulqdq(void);

#endif
