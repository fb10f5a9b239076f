// Options of an app module: the string after --app-options, "key=value,key=value".
/** The value of `key` in the options at args (len bytes) as an unsigned number, or dflt. */
export function argU32(args: usize, len: u32, key: string, dflt: u32): u32 {
  const klen = <u32>key.length;
  let i: u32 = 0;
  while (i < len) {
    let j = i;
    while (j < len && load<u8>(args + <usize>j) != 0x2c) j++; // ','
    if (j - i > klen && load<u8>(args + <usize>(i + klen)) == 0x3d) {
      let same = true;
      for (let k: u32 = 0; k < klen; k++)
        if (<u32>load<u8>(args + <usize>(i + k)) != <u32>key.charCodeAt(k)) same = false;
      if (same) {
        let v: u64 = 0;
        let digits = false;
        for (let k = i + klen + 1; k < j; k++) {
          const c = <u32>load<u8>(args + <usize>k) - 0x30;
          if (c > 9) return dflt;
          v = v * 10 + c;
          digits = true;
          if (v > 0xffffffff) return dflt;
        }
        return digits ? <u32>v : dflt;
      }
    }
    i = j + 1;
  }
  return dflt;
}
