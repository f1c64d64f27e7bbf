// Which components of a deployment run their bootstrap step and in which order [CF-95][LC-35], and
// which resolved component is the nucleus [DP-38].
import { expect } from 'chai';
import type { JsonObject } from '../../../src/config/index.js';
import {
  bootstrapKey,
  DeploymentError,
  needsBootstrap,
  planBootstrap,
  resolvedNucleus,
  type ResolvedComponent,
} from '../../../src/deployment/index.js';
import { parseRecipe } from '../../../src/recipe/index.js';

const svc = (version: string, lifecycle: JsonObject, extra: JsonObject = {}): JsonObject => ({
  componentType: 'GENERIC',
  version,
  lifecycle,
  ...extra,
});

function resolved(name: string, version: string, type?: string): ResolvedComponent {
  const r = parseRecipe(
    JSON.stringify({
      RecipeFormatVersion: '2020-01-25',
      ComponentName: name,
      ComponentVersion: version,
      ...(type ? { ComponentType: type } : {}),
      Manifests: [{ Platform: { os: 'linux' }, Lifecycle: {} }],
    }),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return { name, version, recipe: r.recipe, requirements: [], rootOf: [] };
}

describe('bootstrap planning [CF-95]', () => {
  const boot = { bootstrap: { script: 'exit 0', requiresPrivilege: true }, run: 'sleep 1' };

  it('[CF-95] a new component with a bootstrap step runs it; one without does not', () => {
    expect(needsBootstrap(undefined, svc('1.0.0', boot))).to.equal(true);
    expect(needsBootstrap(undefined, svc('1.0.0', { run: 'sleep 1' }))).to.equal(false);
  });

  it('[CF-95] an existing component runs it again only when its version or its bootstrap step changes', () => {
    expect(needsBootstrap(svc('1.0.0', boot), svc('1.0.0', boot))).to.equal(false);
    expect(needsBootstrap(svc('1.0.0', boot), svc('1.0.1', boot))).to.equal(true);
    const changed = { ...boot, bootstrap: { script: 'exit 100', requiresPrivilege: true } };
    expect(needsBootstrap(svc('1.0.0', boot), svc('1.0.0', changed))).to.equal(true);
    // a change elsewhere in the lifecycle (or the configuration) does not re-run it
    expect(
      needsBootstrap(
        svc('1.0.0', boot),
        svc('1.0.0', { ...boot, run: 'sleep 2' }, { configuration: { a: 1 } }),
      ),
    ).to.equal(false);
  });

  it('[LC-47] keys compare case-insensitively: Bootstrap/Script is the same step as bootstrap/script', () => {
    const upper = { Bootstrap: { Script: 'exit 0', RequiresPrivilege: true }, Run: 'sleep 1' };
    expect(needsBootstrap(svc('1.0.0', boot), svc('1.0.0', upper))).to.equal(false);
    expect(bootstrapKey('A', svc('1.0.0', boot))).to.equal(bootstrapKey('A', svc('1.0.0', boot)));
    expect(bootstrapKey('A', svc('1.0.0', boot))).to.not.equal(bootstrapKey('A', svc('1.0.1', boot)));
  });

  it("[CF-97] the nucleus component's own bootstrap never runs (Tendril updates itself)", () => {
    expect(needsBootstrap(undefined, svc('2.12.0', boot, { componentType: 'NUCLEUS' }))).to.equal(false);
  });

  it('[CF-95] orders the subset by dependencies, names sorted within a level', () => {
    const target: JsonObject = {
      App: svc('1.0.0', boot, { dependencies: ['Lib:HARD', 'Plain:SOFT'] }),
      Lib: svc('1.0.0', boot, { dependencies: ['Base'] }),
      Base: svc('1.0.0', boot),
      Plain: svc('1.0.0', { run: 'x' }),
      Zed: svc('1.0.0', boot),
      Same: svc('1.0.0', boot),
    };
    const current: JsonObject = { Same: svc('1.0.0', boot) };
    expect(planBootstrap(current, target)).to.deep.equal(['Base', 'Lib', 'App', 'Zed']);
  });

  it('[DP-38] finds the resolved nucleus component and refuses two of them', () => {
    expect(resolvedNucleus({ A: resolved('A', '1.0.0') })).to.equal(undefined);
    const n = resolved('aws.greengrass.Nucleus', '0.2.0', 'aws.greengrass.nucleus');
    expect(resolvedNucleus({ A: resolved('A', '1.0.0'), 'aws.greengrass.Nucleus': n })?.version).to.equal(
      '0.2.0',
    );
    const two = {
      'aws.greengrass.Nucleus': n,
      'tendril.Nucleus': resolved('tendril.Nucleus', '0.2.0', 'aws.greengrass.nucleus'),
    };
    expect(() => resolvedNucleus(two))
      .to.throw(DeploymentError, /more than one nucleus/)
      .with.property('codes')
      .that.deep.equals(['MULTIPLE_NUCLEUS_RESOLVED_ERROR']);
  });
});
