/**
 * Field access for the large exports (EC-Lab runs of millions of rows) without `split`: field
 * boundaries by `indexOf`, and only the fields a reader needs are converted.
 */

/**
 * Fills `starts` / `ends` with the bounds of the first `want` fields of `text` split on `sep`; returns how
 * many fields were found (fewer when the line is short). The last field found ends at the line's end.
 */
export function fieldBounds(text: string, sep: string, want: number, starts: Int32Array, ends: Int32Array): number {
  let s = 0;
  let k = 0;
  while (k < want) {
    const e = text.indexOf(sep, s);
    starts[k] = s;
    if (e < 0) {
      ends[k] = text.length;
      return k + 1;
    }
    ends[k] = e;
    k++;
    s = e + 1;
  }
  return k;
}

/**
 * The number in text[start, end), as `Number()` reads it (surrounding spaces allowed), or with a decimal
 * comma (`0,25`). NaN for anything else, an empty field included. Short unsigned integers (mode, half
 * cycle, step index) are read digit by digit; the rest through `Number()`, which is the fastest exact
 * conversion there is here.
 */
export function numberAt(text: string, start: number, end: number): number {
  const len = end - start;
  if (len > 0 && len <= 4) {
    let v = 0;
    let i = start;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
    }
    if (i === end) return v;
  }
  const s = text.slice(start, end);
  const v = +s;
  if (v === v) return v === 0 && s.trim() === '' ? NaN : v;
  return s.includes(',') ? +s.replace(',', '.') : NaN;
}

/**
 * A column's last text and value: a field whose text repeats (the current during a CC step or a rest,
 * the cycle number, the mode) is compared in place and not converted again.
 */
export class FieldCache {
  private text = '';
  private value = NaN;

  /** The number in text[start, end), reusing the last conversion when the text is the same. */
  numberAt(text: string, start: number, end: number): number {
    const t = this.text;
    if (end - start === t.length && text.startsWith(t, start)) return this.value;
    const s = text.slice(start, end);
    let v = +s;
    if (v !== v) v = s.includes(',') ? +s.replace(',', '.') : NaN;
    else if (v === 0 && s.trim() === '') v = NaN;
    this.text = s;
    this.value = v;
    return v;
  }
}
