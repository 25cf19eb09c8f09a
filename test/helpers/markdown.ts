/** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** Each heading's anchor and the text of its section, up to the next heading of any level. */
export function sections(markdown: string): Map<string, string> {
  const result = new Map<string, string>();
  const parts = markdown.split(/^(#{1,6} .*)$/m);
  for (let i = 1; i < parts.length; i += 2)
    result.set(headingAnchor((parts[i] ?? '').replace(/^#+ /, '')), parts[i + 1] ?? '');
  return result;
}
