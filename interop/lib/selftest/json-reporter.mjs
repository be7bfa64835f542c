// A node:test reporter printing one JSON line per finished test: { result, name, message }.
// Used by test/harness.test.mjs to read what a nested `node --test` run reported.
export default async function* jsonLines(source) {
  for await (const { type, data } of source) {
    if (type !== "test:pass" && type !== "test:fail") continue;
    const e = data.details?.error;
    const message = type === "test:fail" ? String(e?.cause?.message ?? e?.cause ?? e?.message ?? e) : "";
    yield `${JSON.stringify({ result: type.slice(5), name: data.name, message })}\n`;
  }
}
