import { Ajv, type ErrorObject, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';

function createAjv(options: Options): Ajv {
  const ajv = new Ajv({ useDefaults: true, allErrors: false, verbose: true, ...options });
  // "full" mode checks real calendar dates: 2023-02-29 is not a date.
  addFormats.default(ajv, { mode: 'full' });
  return ajv;
}

// JSON bodies are taken as typed: {"name": 123} is an error, not the string "123".
const bodyAjv = createAjv({ coerceTypes: false, removeAdditional: false });
// Path and query values arrive as strings: "?limit=10" must become the integer 10.
const urlAjv = createAjv({ coerceTypes: true, removeAdditional: false });

/** Compiles body schemas strictly and URL schemas with string-to-number coercion. */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : urlAjv).compile(schema) as ReturnType<
    FastifySchemaCompiler<object>
  >;

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
        ? `must not have the property "${String(first.params.additionalProperty)}"`
        : (first.message ?? 'is invalid');
  return new Error(`${field} ${message}`);
}
