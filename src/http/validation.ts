import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormats from 'ajv-formats';

const STRICT: AjvOptions = {
  allErrors: false,
  removeAdditional: false,
  useDefaults: true,
  coerceTypes: false,
  strict: false,
};

/** Bodies are validated strictly: no coercion, unknown fields rejected, nothing removed. */
const bodies = addFormats.default(new Ajv(STRICT));
/** Query strings and path parameters arrive as text, so they are coerced to the declared types. */
const texts = addFormats.default(new Ajv({ ...STRICT, coerceTypes: true }));

/** Compiles a request body's schema, as every route and the verify fast path validate it. */
export function compileBodySchema(schema: object) {
  return bodies.compile(schema);
}

/** The validator compiler of the Fastify app: strict bodies, coerced text. */
export function validatorCompiler({ schema, httpPart }: { schema: object; httpPart?: string }) {
  return (httpPart === 'body' ? bodies : texts).compile(schema);
}
