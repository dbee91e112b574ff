import WeightScopeCommands

#if os(Linux)
  import CMalloc

  // A listing builds large arrays, frees them and builds others. Keeping freed memory in the
  // heap, rather than handing each large block back to the kernel, lets the next array reuse
  // pages that are mapped already instead of faulting in and zeroing fresh ones: a tenth less
  // time for a checkpoint of a hundred thousand tensors. The process is short-lived.
  _ = mallopt(M_MMAP_THRESHOLD, 256 << 20)
  _ = mallopt(M_TRIM_THRESHOLD, 512 << 20)
  _ = mallopt(M_TOP_PAD, 16 << 20)
#endif

WeightScopeCommand.mainExit()
