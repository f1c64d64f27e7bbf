// Matches `METHOD /path` against the operation table of [CP-23]..[CP-51]. Path labels are percent-decoded
// after splitting on `/` [CP-55]; a `{label+}` label takes the rest of the path [CP-04].
import type { IncomingHttpHeaders } from 'node:http';

export interface ApiRequest {
  operation: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; `{}` when the request had none. */
  body: Record<string, unknown>;
  /** On the mutual-TLS data plane: the thing name (subject CN) of the client certificate. */
  clientThing?: string;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
}

export type Handler = (req: ApiRequest) => ApiResponse | Promise<ApiResponse>;

export interface Route {
  method: string;
  path: string;
  operation: string;
  handler: Handler;
}

interface CompiledRoute extends Route {
  segments: string[];
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

export class Router {
  private readonly routes: CompiledRoute[] = [];

  add(...routes: Route[]): this {
    for (const r of routes) this.routes.push({ ...r, segments: r.path.split('/').filter(Boolean) });
    return this;
  }

  /** Returns the matching route, or undefined; throws URIError on a malformed percent-encoding. */
  match(method: string, pathname: string): RouteMatch | undefined {
    const parts = pathname.split('/').filter(Boolean);
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const params = matchSegments(route.segments, parts);
      if (params) return { route, params };
    }
    return undefined;
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const seg = pattern[i];
    if (seg.startsWith('{') && seg.endsWith('+}')) {
      if (i >= parts.length) return undefined;
      params[seg.slice(1, -2)] = parts.slice(i).map(decodeURIComponent).join('/');
      return params;
    }
    if (i >= parts.length) return undefined;
    if (seg.startsWith('{')) {
      params[seg.slice(1, -1)] = decodeURIComponent(parts[i]);
    } else if (seg !== parts[i]) {
      return undefined;
    }
  }
  return parts.length === pattern.length ? params : undefined;
}
