// The shapes of the ABI table's entries (abi/table.ts).
export interface Constant {
  name: string;
  value: number;
  /** Written in hexadecimal on both sides (addresses). */
  hex?: boolean;
  /** Index at which the core's abiCheck(i) reports this value (the host compares at every instantiation). */
  check?: number;
  doc: string;
}

/** A u32 config word at CFG_BASE + 4 * word, written by the host before plan() and init(). */
export interface ConfigWord {
  word: number;
  /** The core's constant (CFG_*); absent for the later words of a multi-word value (the core adds an index). */
  core?: string;
  /** The host's key in CONFIG_WORDS / CoreConfig; absent for words the host writes itself (CFG_ABI). */
  host?: string;
  /** The host's default. */
  default?: number;
  doc: string;
}

/** A bit of a flags word; the value is 1 << bit. */
export interface FlagBit {
  name: string;
  bit: number;
  doc: string;
}

export interface Region {
  id: number;
  core: string;
  host: string;
  doc: string;
}

export interface Counter {
  /** The report's name; the core's constant is C_ + its upper case. */
  name: string;
  doc: string;
  /** A comment line printed above this counter on the core side (a group of counters starts). */
  group?: string;
}

export interface Stage {
  core: string;
  /** The report's name. */
  host: string;
  doc: string;
  /** What the report says it covers. */
  about: string;
  /** Replay modes whose timed batch function marks this stage. */
  replay?: ("raw" | "track")[];
}

export interface Code {
  name: string;
  value: number;
  doc: string;
  /** The host's name where it keys a table by it (DEAD reasons, app ids). */
  host?: string;
}

export interface Field {
  name: string;
  offset: number;
  /** Bytes; 8 is an f64, 16 an address (four u32 words). */
  size: 1 | 2 | 4 | 8 | 16;
  doc: string;
}

export interface RingConst extends Constant {
  /** The host's key in RING. */
  host: string;
  /** The core's type (offsets are usize). */
  type?: "u32" | "u16";
}

/** A constant of a shared layout (abi/table/feeds.ts, ...): a byte offset, a size, a code. */
export interface LayoutConst {
  name: string;
  value: number;
  /** The core's type where it is not the group's. */
  type?: CoreType;
  hex?: boolean;
  /** In a record group: the field's bytes (default 4, 8 for a u64 or an f64; else a byte array). */
  size?: number;
  /** In a record group: the field's type where it is not u32 (size 4) or u64 (size 8). */
  field?: "i32" | "f64" | "u16";
  /** The host's name where it keys a table by it (result names, close kinds). */
  host?: string;
  doc: string;
}

export type CoreType = "usize" | "u32" | "u16" | "i32";

export interface LayoutGroup {
  /** Its heading on both sides. */
  title: string;
  /** The core's type of its constants. */
  type: CoreType;
  /**
   * A record's fields (byte offsets), with the name of the constant (of this layout)
   * holding the record's bytes: the generator checks that no two fields overlap and
   * each fits. Groups naming the same record are checked together.
   */
  record?: string;
  /**
   * The host also gets each field's u32 word index, PREFIX_W_REST for PREFIX_REST
   * (it fills the record through an Int32Array / Uint32Array).
   */
  words?: boolean;
  entries: LayoutConst[];
}

/**
 * A layout one part of the core shares with the host module on the other side (an
 * app's feed in R_APP, gen.wasm's descriptors, migration chunks): generated into
 * assembly/abi/<name>.gen.ts and host/core/<name>.gen.ts.
 */
export interface SharedLayout {
  name: string;
  /** The AssemblyScript module that imports it. */
  coreUser: string;
  /** The host module that imports it. */
  hostUser: string;
  about: string;
  groups: LayoutGroup[];
}
