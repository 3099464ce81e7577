#ifndef CAUSEWAY_CALLOCATIONCOUNTER_H
#define CAUSEWAY_CALLOCATIONCOUNTER_H

// Counts heap allocations made by the calling thread between begin and end, so a test can
// prove that a stretch of the data path allocates nothing. The test executable defines
// malloc and its relatives itself (ELF interposition), passing each call on to glibc.

/// Starts counting this thread's allocations from zero.
void cw_allocations_begin(void);

/// Stops counting; returns how many allocations this thread made since begin.
unsigned long cw_allocations_end(void);

#endif
