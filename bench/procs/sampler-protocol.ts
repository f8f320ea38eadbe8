/** Messages between a benchmark and its fd-sampler child process. */

export type SamplerCommand = { cmd: 'peak' };

export interface SamplerPeak {
  peak: {
    /** Most open file descriptors seen at once. */
    openFiles?: number;
    /** Most established connections to the watched port seen at once. */
    connections?: number;
  };
}
