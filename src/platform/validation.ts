import { Ajv, type ErrorObject, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import { clip } from './errors.js';

function createAjv(options: Options): Ajv {
  const ajv = new Ajv({ useDefaults: true, allErrors: false, verbose: true, ...options });
  // "full" mode checks real calendar dates: 2023-02-29 is not a date.
  addFormats.default(ajv, { mode: 'full' });
  return ajv;
}

// JSON bodies are taken as typed: {"name": 123} is an error, not the string "123".
const bodyAjv = createAjv({ coerceTypes: false, removeAdditional: false });
// Path and query values arrive as strings; numbers among them are read by readNumbers.
const urlAjv = createAjv({ coerceTypes: false, removeAdditional: false });

// A number in a URL is written in decimal digits and nothing else. Ajv's coercion also
// takes "1e999" (Infinity, which reached PostgreSQL), "0x10", "+5" and " 7 "; here each of
// those stays a string and fails the schema's type: a 400 naming the parameter.
const DECIMAL = { integer: /^-?\d+$/, number: /^-?\d+(\.\d+)?$/ } as const;

/**
 * Compiles body schemas strictly. URL schemas get their numbers read from decimal digits
 * only, then the schema's bounds decide (which keep each one within its column's type).
 */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  if (httpPart === 'body') return bodyAjv.compile(schema);
  const validate = urlAjv.compile(schema);
  const numbers = numericProperties(schema);
  if (numbers.length === 0) return validate;
  const readNumbersThenValidate = (data: unknown) => {
    if (typeof data === 'object' && data !== null)
      readNumbers(data as Record<string, unknown>, numbers);
    return validate(data);
  };
  // Fastify reads a failed validation's errors from the function it was given.
  return Object.defineProperty(readNumbersThenValidate, 'errors', {
    get: () => validate.errors,
  });
};

type NumericProperty = [name: string, pattern: RegExp];

/** The top-level properties a URL schema declares as numbers (query and path are flat). */
function numericProperties(schema: object): NumericProperty[] {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties;
  return Object.entries(properties ?? {}).flatMap(([name, property]) =>
    property.type === 'integer' || property.type === 'number'
      ? [[name, DECIMAL[property.type]] as NumericProperty]
      : [],
  );
}

function readNumbers(data: Record<string, unknown>, numbers: NumericProperty[]): void {
  for (const [name, pattern] of numbers) {
    const value = data[name];
    if (typeof value === 'string' && pattern.test(value)) data[name] = Number(value);
  }
}

/**
 * Turns the first schema error into one sentence. A pattern or format error says what is
 * expected in the schema's own words (its description) instead of echoing a regex.
 */
export function formatValidationError(
  errors: FastifySchemaValidationError[],
  dataVar: string,
): Error {
  const [first] = errors as unknown as (ErrorObject & {
    parentSchema?: { description?: string };
  })[];
  if (first === undefined) return new Error(`${dataVar} is invalid`);
  const field = `${dataVar}${first.instancePath.replaceAll('/', '.')}`;
  const description = first.parentSchema?.description;
  const message =
    (first.keyword === 'pattern' || first.keyword === 'format') && description
      ? `must be ${description}`
      : first.keyword === 'additionalProperties'
        ? `must not have the property "${clip(String(first.params.additionalProperty))}"`
        : (first.message ?? 'is invalid');
  return new Error(`${field} ${message}`);
}
