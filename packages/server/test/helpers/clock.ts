import type { Clock } from '../../src/clock.ts';

/** A clock tests move by hand: lifetimes are tested by advancing it, never by sleeping. */
export class TestClock implements Clock {
  constructor(private ms = Date.UTC(2026, 10, 27, 12, 0, 0)) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  advanceSeconds(s: number): void {
    this.ms += s * 1000;
  }
}
