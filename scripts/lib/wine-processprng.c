/* ProcessPrng for Wine 8, which lacks bcryptprimitives.dll: Rust's standard library on
 * Windows draws its random numbers from it. Built with mingw-w64 beside the test programs
 * that .ci/windows-control runs under Wine; it forwards to RtlGenRandom. */
#include <windows.h>
#define SystemFunction036 NTAPI SystemFunction036
#include <ntsecapi.h>
#undef SystemFunction036

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    return RtlGenRandom(data, (ULONG)len);
}
