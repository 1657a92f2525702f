/**
 * What library functions may ask of the evaluation that calls them. Anything that can build a
 * large value charges it here *before* building it, so limits hold inside library calls too.
 * Throwing is done by the implementation (a SelError of kind 'limit').
 */
export interface HostContext {
  /** Charge memory in SEL units: a string's characters, an array's or map's elements. */
  chargeMemory(units: number): void;
  /** Refuse an array that would be longer than the array limit. */
  checkArrayLength(length: number): void;
  /** Refuse a string longer than the string-length limit, if one is in force. */
  checkStringLength(length: number): void;
  /**
   * Charge work done inside a library call, in work units: about one character scanned or one
   * element copied (WORK_UNITS_PER_STEP units make one evaluation step), so the steps limit
   * bounds the time library calls take, not only loop turns.
   */
  chargeWork(units: number): void;
  /** Work units left before the steps limit (for work that stops itself when it runs out). */
  workLeft(): number;
  /** The evaluation clock in epoch milliseconds (pinned in tests and conformance cases). */
  nowMillis(): number;
  /** A random double in [0, 1) (Math.random / UUID), injectable for tests. */
  random(): number;
}
