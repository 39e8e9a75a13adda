/**
 * `{ ...base, ...fields }` for the request path. Node 20's V8 builds an object literal that
 * spreads one object and then names more fields far more slowly than it builds either part
 * (measured: a 5-field spread followed by 14 named fields, about 25 times this function),
 * and the chat path builds such objects for every request.
 */
export function extend<A extends object, B extends object>(base: A, fields: B): A & B {
  return Object.assign({}, base, fields);
}
