// Non-finite numbers on the wire and on disk: "NaN", "Infinity", "-Infinity" (proto3 JSON convention).
import type { WireNumber } from './wire';

export function decodeNumber(value: WireNumber): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return Number.NaN;
  return value === 'Infinity' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
}

export function encodeNumber(value: number): WireNumber {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

/**
 * A value read from JSON where a number belongs: a number, or one of the three strings. Anything
 * else (a null that JSON made of an unencoded NaN) reads as NaN: shown as non-finite, never as 0.
 */
export function readNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  return isNonFiniteToken(value) ? decodeNumber(value) : Number.NaN;
}

/** The three strings that stand for a non-finite number. */
export function isNonFiniteToken(value: unknown): value is Exclude<WireNumber, number> {
  return value === 'NaN' || value === 'Infinity' || value === '-Infinity';
}
