import type { Express, NextFunction, Request, Response } from 'express';
import { readdirSync } from 'node:fs';
import { relative } from 'node:path';
import { AppError } from '../errors/app-error';

/** A directory served under a path prefix (express.static): each of its files answers GET and HEAD. */
export interface StaticMount {
  prefix: string;
  root: string;
}

type RoutePath = string | RegExp;

/** What the router keeps of a route (Express's `app.router.stack` entries made by `app.get(...)` and kin). */
interface RouterLayer {
  route?: { path: RoutePath | RoutePath[]; methods: Record<string, boolean | undefined> };
}

/** The methods a request met on its way: the union over every registered path that matched its path. */
const metMethods = new WeakMap<Request, Set<string>>();

/**
 * Makes a wrong method on an existing path answer 405 `method_not_allowed` with an `Allow` header (and
 * OPTIONS answer 204 with it), where Express would fall through to the 404 of an unknown path. Call it
 * once, after every route and static mount is registered and before the not-found handler: it reads the
 * routes and the static files once, and adds a few routes (one per set of methods, over all the paths
 * that share it) that match only what no real route answered. Paths no route has keep their 404.
 */
export function answerWrongMethods(app: Express, mounts: readonly StaticMount[]): void {
  const byMethods = new Map<string, { methods: string[]; paths: RoutePath[] }>();
  for (const [path, methods] of methodsByPath(app, mounts)) {
    const list = [...methods].sort();
    const key = list.join(',');
    const group = byMethods.get(key) ?? { methods: list, paths: [] };
    group.paths.push(path);
    byMethods.set(key, group);
  }
  for (const { methods, paths } of byMethods.values()) {
    app.route(paths).all((req: Request, _res: Response, next: NextFunction) => {
      const met = metMethods.get(req) ?? new Set<string>();
      for (const method of methods) met.add(method);
      metMethods.set(req, met);
      next();
    });
  }
  app.use(answerWrongMethod);
}

function answerWrongMethod(req: Request, res: Response, next: NextFunction): void {
  const met = metMethods.get(req);
  // A method the path answers that still reached here is a handler that passed the request on.
  if (met === undefined || met.has(req.method)) {
    next();
    return;
  }
  const allow = [...met, 'OPTIONS'].sort().join(', ');
  if (req.method === 'OPTIONS') {
    res.setHeader('Allow', allow);
    res.status(204).end();
    return;
  }
  next(
    new AppError('method_not_allowed', `${req.method} is not allowed on ${req.path}; allowed methods: ${allow}`, {
      headers: { Allow: allow },
    }),
  );
}

/** Every registered path with the methods its routes answer (HEAD with GET), plus the static files. */
function methodsByPath(app: Express, mounts: readonly StaticMount[]): Map<RoutePath, Set<string>> {
  const byPath = new Map<string, { path: RoutePath; methods: Set<string>; any: boolean }>();
  const add = (path: RoutePath, methods: readonly string[], any = false): void => {
    const key = typeof path === 'string' ? `s:${path}` : `r:${String(path)}`;
    const entry = byPath.get(key) ?? { path, methods: new Set<string>(), any: false };
    for (const method of methods) entry.methods.add(method);
    entry.any ||= any;
    byPath.set(key, entry);
  };
  for (const layer of (app.router as unknown as { stack: RouterLayer[] }).stack) {
    if (layer.route === undefined) continue;
    const flags = layer.route.methods;
    const methods = Object.keys(flags)
      .filter((name) => flags[name] && name !== '_all')
      .map((name) => name.toUpperCase());
    if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD');
    for (const path of [layer.route.path].flat()) add(path, methods, flags._all === true);
  }
  for (const mount of mounts) {
    for (const file of filesUnder(mount.root)) add(joinPath(mount.prefix, file), ['GET', 'HEAD']);
  }
  // A path with a route for every method (`route.all()`) never answers 405.
  return new Map(
    [...byPath.values()]
      .filter(({ methods, any }) => !any && methods.size > 0)
      .map(({ path, methods }) => [path, methods]),
  );
}

/** The files express.static serves from `root` (not dotfiles), as URL paths relative to it. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, `${entry.parentPath}/${entry.name}`).split(/[\\/]/))
    .filter((segments) => segments.every((s) => !s.startsWith('.')))
    .map((segments) => segments.join('/'));
}

/** A route path for a literal URL path: the route syntax's reserved characters escaped. */
function joinPath(prefix: string, file: string): string {
  return `${prefix.replace(/\/+$/, '')}/${file}`.replace(/[{}()[\]+?!:*\\]/g, '\\$&');
}
