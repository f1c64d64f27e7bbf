// CreateComponentVersion [CP-27]: from an inline recipe (JSON or YAML, validated by src/recipe) or from a
// Lambda function (lambda-recipe.ts). The version starts REQUESTED and is then checked against the artifact
// store (component-status.ts).
import { formatProblems, parseRecipe, type Recipe } from '../../recipe/index.js';
import { componentVersionArn } from '../arn.js';
import { epochSeconds, idempotent, type CloudContext } from '../context.js';
import { conflict, validationError, validationErrors } from '../http/errors.js';
import type { Route } from '../http/router.js';
import { parseRecipeDocument } from '../recipe-document.js';
import type { ComponentPlatform } from '../store/index.js';
import { optionalClientToken, optionalObject } from '../validate.js';
import { lambdaRecipe } from './lambda-recipe.js';
import { parseTags } from './tags.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

interface Submitted {
  text: string;
  doc: Record<string, unknown>;
  recipe: Recipe;
}

function validated(text: string, field: string): Submitted {
  const parsed = parseRecipe(text);
  if (!parsed.ok)
    throw validationErrors(
      `${field} is not a valid recipe: ${formatProblems(parsed.problems)}`,
      parsed.problems.map((p) => ({ name: p.path, message: p.reason })),
    );
  const doc = parseRecipeDocument(text);
  if (!doc)
    throw validationError(`${field} could not be read as a JSON or YAML object`, field, 'CANNOT_PARSE');
  return { text, doc, recipe: parsed.recipe };
}

function submittedRecipe(body: Record<string, unknown>): Submitted {
  const hasInline = body.inlineRecipe !== undefined && body.inlineRecipe !== null;
  const lambda = optionalObject(body.lambdaFunction, 'lambdaFunction');
  if (hasInline === (lambda !== undefined))
    throw validationError(
      'exactly one of inlineRecipe and lambdaFunction is required',
      hasInline ? 'lambdaFunction' : 'inlineRecipe',
    );
  if (lambda) return validated(JSON.stringify(lambdaRecipe(lambda)), 'lambdaFunction');
  const b64 = body.inlineRecipe;
  if (typeof b64 !== 'string' || !BASE64.test(b64))
    throw validationError('inlineRecipe must be a base64-encoded blob', 'inlineRecipe', 'CANNOT_PARSE');
  if (b64 === '') throw validationError('inlineRecipe must not be empty', 'inlineRecipe');
  const bytes = Buffer.from(b64, 'base64');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw validationError('inlineRecipe is not UTF-8 text', 'inlineRecipe');
  }
  return validated(text, 'inlineRecipe');
}

function platformsOf(recipe: Recipe): ComponentPlatform[] {
  return recipe.manifests.map((m) => {
    const attributes: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.platform ?? {})) attributes[k] = v ?? '*';
    return { ...(m.name ? { name: m.name } : {}), attributes };
  });
}

export function createComponentRoutes(ctx: CloudContext): Route[] {
  return [
    {
      method: 'POST',
      path: '/greengrass/v2/createComponentVersion',
      operation: 'CreateComponentVersion',
      handler: ({ body }) => {
        const tags = parseTags(body.tags);
        const clientToken = optionalClientToken(body);
        const { doc, recipe } = submittedRecipe(body);
        const name = recipe.componentName;
        const version = recipe.componentVersion;
        const arn = componentVersionArn(ctx.arn, name, version);
        const result = idempotent(ctx, 'CreateComponentVersion', clientToken, body, () => {
          if (ctx.store.components.get(name, version))
            throw conflict(`component ${name} version ${version} already exists`, arn, 'componentVersion');
          const createdMs = ctx.now();
          ctx.store.components.insert({
            name,
            version,
            createdMs,
            state: 'REQUESTED',
            recipe: doc,
            description: recipe.componentDescription,
            publisher: recipe.componentPublisher,
            platforms: platformsOf(recipe),
          });
          if (tags) ctx.store.tags.put(arn, tags);
          return {
            arn,
            componentName: name,
            componentVersion: version,
            creationTimestamp: epochSeconds(createdMs),
            status: { componentState: 'REQUESTED', message: 'NONE', errors: {} },
          };
        });
        void ctx.settleComponents();
        return { status: 201, body: result };
      },
    },
  ];
}
