import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { Configuration, InitConfigError, parseInitConfig } from '../../../src/config/index.js';
import { fixturesDir } from './fixtures.js';

const configsDir = path.join(fixturesDir, 'configs');
const readme = readFileSync(path.join(fixturesDir, 'README.md'), 'utf8');
const invalid = new Set(
  readme
    .split('\n')
    .filter((l) => /\|\s*INVALID:/.test(l))
    .map((l) => /^\|\s*`([^`]+)`/.exec(l)?.[1])
    .filter((x): x is string => !!x),
);

// The field each INVALID fixture must be refused for (from the README's reason).
const expectedField: Record<string, RegExp> = {
  'aws-greengrass-nucleus__src__integrationtests__resources__com__aws__greengrass__integrationtests__lifecyclemanager__skipif_broken.yaml':
    /services\.test\.lifecycle\.run\.posix\.skipif: must be "onpath <executable>" or "exists <file>", got "This is broken"/,
  'aws-greengrass-nucleus__src__test__resources__com__aws__greengrass__authorization__pubsub_invalid_fields.yaml':
    /services\.ServiceName\.configuration\.accessControl\.aws\.greengrass\.ipc\.pubsub\.policyId1\.policyTypeInvalid: unknown policy field/,
};

describe('init config files [CF-17 step 3][CF-83..CF-85]', () => {
  const files = readdirSync(configsDir).sort();

  it('the fixtures README marks exactly the INVALID configs this test knows', () => {
    const invalidConfigs = files.filter((f) => invalid.has(f));
    expect(invalidConfigs.sort()).to.deep.equal(Object.keys(expectedField).sort());
  });

  for (const f of files) {
    const text = readFileSync(path.join(configsDir, f), 'utf8');
    if (invalid.has(f)) {
      it(`refuses INVALID ${f} naming the field`, () => {
        expect(() => parseInitConfig(text, f)).to.throw(InitConfigError, expectedField[f]);
      });
    } else {
      it(`loads ${f} and merges it into a tree`, () => {
        const map = parseInitConfig(text, f);
        const c = new Configuration({ clock: () => 1 });
        c.merge(map, { timestamp: 1234 });
        const services = c.findTopics(['services']);
        expect(services, 'services').to.not.equal(undefined);
        expect(services!.size).to.be.greaterThan(0);
        for (const [name, def] of Object.entries(map.services as Record<string, unknown>))
          if (def && typeof def === 'object')
            expect(c.find(['services', name]), name).to.not.equal(undefined);
      });
    }
  }

  it('keeps nucleus configuration keys from the Greengrass Lite sample (CF-26, CF-31, CF-34, CF-42)', () => {
    const f = 'aws-greengrass-lite__docs__examples__sample_nucleus_config.yaml';
    const c = new Configuration();
    c.merge(parseInitConfig(readFileSync(path.join(configsDir, f), 'utf8'), f), { timestamp: 5 });
    const nucleus = ['services', 'aws.greengrass.NucleusLite', 'configuration'];
    expect(c.get([...nucleus, 'awsRegion'])).to.equal('us-west-2');
    expect(c.get([...nucleus, 'greengrassDataPlanePort'])).to.equal('8443');
    expect(c.get([...nucleus, 'runWithDefault', 'posixUser'])).to.equal('gg_component:gg_component');
    expect(c.get([...nucleus, 'fleetStatus', 'periodicStatusPublishIntervalSeconds'])).to.equal(86400);
    expect(c.get([...nucleus, 'platformOverride'])).to.deep.equal({});
    expect(c.get(['system', 'rootpath'])).to.equal('/var/lib/greengrass');
  });

  it('refuses malformed documents with a precise reason', () => {
    const bad = (text: string, re: RegExp) =>
      expect(() => parseInitConfig(text, 'x.yaml')).to.throw(InitConfigError, re);
    bad('services: [a, b]', /x.yaml: services: must be a map of service name to definition/);
    bad('- 1\n- 2', /x.yaml: \(document\): the document must be a map/);
    bad('services:\n  a: {b: [}', /x.yaml: \(document\): not valid YAML\/JSON/);
    bad('system:\n  rootpath: 5', /system.rootpath: must be a string/);
    bad(
      'services:\n  a:\n    dependencies: [b:WEAK]',
      /services.a.dependencies\[0\]: must be "name", "name:SOFT" or "name:HARD"/,
    );
    bad(
      'services:\n  a:\n    lifecycle: [1]',
      /services.a.lifecycle: must be a map of steps or a run command string/,
    );
    bad('services:\n  a:\n    version: 1.0', /services.a.version: must be a string/);
    bad(
      'services:\n  a:\n    configuration:\n      accessControl:\n        x:\n          p:\n            operations: 3',
      /services.a.configuration.accessControl.x.p.operations: must be a list of strings/,
    );
    bad('setenv: 3', /setenv: must be a map/);
  });

  it('reads JSON as well, and keeps YAML dates as strings', () => {
    const m = parseInitConfig(
      '{"services": {"a": {"version": "1.0.0", "lifecycle": {"run": "x"}}}}',
      'x.json',
    );
    expect(m).to.deep.equal({ services: { a: { version: '1.0.0', lifecycle: { run: 'x' } } } });
    expect(parseInitConfig('system:\n  thingName: t\nwhen: 2020-01-25\n')).to.deep.equal({
      system: { thingName: 't' },
      when: '2020-01-25',
    });
  });
});
