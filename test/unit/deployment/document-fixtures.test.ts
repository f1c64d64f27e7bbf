// Data-driven conformance over the shared deployment fixtures: the README's table says which documents
// are INVALID (and why) and which one is the control-plane CreateDeployment request; every other
// document must parse into the one internal DeploymentDocument.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingCapabilities, parseDeploymentDocument } from '../../../src/deployment/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtures = path.resolve(repoRoot, '../shared/fixtures');
const dir = path.join(fixtures, 'deployments');
/** What a transport knows about a document: its job id and its group (used only when absent). */
const ENVELOPE = { deploymentId: 'envelope-id', groupName: 'thinggroup/EnvelopeGroup', now: 42 };

interface Row {
  file: string;
  note: string;
}

function deploymentRows(): Row[] {
  const readme = readFileSync(path.join(fixtures, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Deployment documents'));
  if (!section) throw new Error('fixtures README has no Deployment documents section');
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split(' | ');
    const file = /^\| `([^`]+)`$/.exec(cells[0] ?? '')?.[1];
    if (file) rows.push({ file, note: cells[cells.length - 1].replace(/ \|$/, '') });
  }
  return rows;
}

describe('deployment document fixtures (README-driven) [DP-05..DP-30]', () => {
  const rows = deploymentRows();

  it('the README lists every fixture file and nothing else', () => {
    expect(rows.map((r) => r.file).sort()).to.deep.equal(readdirSync(dir).sort());
    expect(rows.filter((r) => r.note.startsWith('INVALID'))).to.have.length(1);
  });

  for (const row of rows) {
    const text = (): Buffer => readFileSync(path.join(dir, row.file));
    if (row.note.startsWith('INVALID') && /capabilit/i.test(row.note)) {
      it(`${row.file} parses but fails the capability check [DP-24, DP-34]`, () => {
        const r = parseDeploymentDocument(text(), ENVELOPE);
        if (!r.ok) expect.fail(JSON.stringify(r.problems));
        const missing = missingCapabilities(r.document);
        expect(missing).to.have.length(1);
        expect(missing[0].path).to.equal('requiredCapabilities[1]');
        expect(missing[0].reason).to.match(/^"ANOTHER_CAPABILITY" is not supported/);
      });
    } else if (row.note.startsWith('INVALID')) {
      it(`${row.file} is refused`, () => {
        expect(parseDeploymentDocument(text(), ENVELOPE).ok).to.equal(false);
      });
    } else if (/CreateDeployment API request/.test(row.note)) {
      it(`${row.file} is refused as control-plane input, naming targetArn [DP-19]`, () => {
        const r = parseDeploymentDocument(text(), ENVELOPE);
        expect(r.ok).to.equal(false);
        if (r.ok) return;
        expect(r.problems).to.have.length(1);
        expect(r.problems[0].path).to.equal('targetArn');
        expect(r.problems[0].reason).to.match(/CreateDeployment API request \(control-plane input\)/);
      });
    } else {
      it(`${row.file} parses`, () => {
        const r = parseDeploymentDocument(text(), ENVELOPE);
        if (!r.ok) expect.fail(JSON.stringify(r.problems));
        const expectedForm = /PascalCase/.test(row.note)
          ? 'INTERNAL'
          : /[Ll]ocal deployment request/.test(row.note)
            ? 'LOCAL'
            : 'CLOUD';
        expect(r.document.form).to.equal(expectedForm);
      });
    }
  }
});

function parseFixture(suffix: string): ReturnType<typeof parseDeploymentDocument> {
  const file = readdirSync(dir).find((f) => f.endsWith(suffix));
  if (!file) throw new Error(`no fixture ${suffix}`);
  return parseDeploymentDocument(readFileSync(path.join(dir, file)), ENVELOPE);
}

function doc(suffix: string) {
  const r = parseFixture(suffix);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.document;
}

describe('deployment document normalisation of the fixtures', () => {
  it('FcsDeploymentConfig_Full: ids, group, float timestamp, policies, runWith and merge/reset [DP-05..DP-18, DP-23]', () => {
    const d = doc('FcsDeploymentConfig_Full.json');
    expect(d.deploymentId).to.equal('3b86691d-4f81-408a-852e-edc14cd351a7');
    expect(d.groupName).to.equal('thinggroup/SampleGroup');
    expect(d.timestamp).to.equal(1604067741583);
    expect(d.failureHandlingPolicy).to.equal('DO_NOTHING');
    expect(d.componentUpdatePolicy).to.deep.equal({ action: 'NOTIFY_COMPONENTS', timeoutSeconds: 120 });
    expect(d.configurationValidationPolicy).to.deep.equal({ timeoutSeconds: 120 });
    expect(d.rootComponents).to.deep.equal({ CustomerApp: '1.0.0', CustomerApp2: '1.0.0' });
    expect(d.rootsMode).to.equal('replace');
    expect(d.configurationUpdates.CustomerApp).to.deep.equal({
      merge: { key: 'val' },
      reset: ['/sampleText', '/path'],
    });
    expect(d.configurationUpdates.CustomerApp2).to.deep.equal({});
    expect(d.runWith.CustomerApp).to.deep.equal({
      posixUser: 'foo',
      windowsUser: 'bar',
      systemResourceLimits: { memory: 1024000, cpus: 1.5 },
    });
    // [DP-23] an empty runWith reverts to the defaults.
    expect(d.runWith.CustomerApp2).to.deep.equal({
      posixUser: null,
      windowsUser: null,
      systemResourceLimits: null,
    });
    expect(d.requiredCapabilities).to.deep.equal([
      'LARGE_CONFIGURATION',
      'ANOTHER_CAPABILITY',
      'LINUX_RESOURCE_LIMITS',
    ]);
  });

  it('Missing_Fields: policy defaults; absent validation policy means the 20 s nucleus default [DP-21, DP-22]', () => {
    const d = doc('FcsDeploymentConfig_Missing_Fields.json');
    expect(d.failureHandlingPolicy).to.equal('ROLLBACK');
    expect(d.componentUpdatePolicy).to.deep.equal({ action: 'NOTIFY_COMPONENTS', timeoutSeconds: 60 });
    expect(d.configurationValidationPolicy).to.deep.equal({ timeoutSeconds: 20 });
    expect(d.runWith.CustomerApp).to.deep.equal({
      posixUser: null,
      windowsUser: null,
      systemResourceLimits: null,
    });
  });

  it('configuration-1-redeploy: uppercase MERGE/RESET, string timeouts, onBehalfOf/parentTargetArn as thinggroup/<name> [DP-09, DP-10, DP-23]', () => {
    const d = doc('configuration-1-redeploy.json');
    expect(d.deploymentId).to.equal('envelope-id');
    expect(d.groupName).to.equal('thinggroup/EnvelopeGroup');
    expect(d.timestamp).to.equal(42);
    expect(d.configurationUpdates.MyThermostatComponent.reset).to.deep.equal([
      '/rooms/Kitchen',
      '/rooms/Office',
      '/rooms/Conference Room',
    ]);
    expect(d.configurationUpdates.MyThermostatComponent.merge).to.have.property('units', 'C');
    expect(d.componentUpdatePolicy).to.deep.equal({ action: 'SKIP_NOTIFY_COMPONENTS', timeoutSeconds: 5000 });
    expect(d.configurationValidationPolicy.timeoutSeconds).to.equal(30000);
    expect(d.onBehalfOf).to.equal('thinggroup/parentGroup');
    expect(d.parentGroupName).to.equal('thinggroup/parentGroup');
    expect(d.runWith.MyThermostatComponent.posixUser).to.equal('user:group');
  });

  it('ShadowDeploymentForMosquitto: a thing/<name> ARN is a thing (shadow) group [DP-06, DP-23]', () => {
    expect(doc('ShadowDeploymentForMosquitto.json').groupName).to.equal('thing/ThingName');
  });

  it('SampleJobDocument (internal form): group from the ARN used as DeploymentId [DP-30]', () => {
    const d = doc('SampleJobDocument.json');
    expect(d.form).to.equal('INTERNAL');
    expect(d.deploymentId).to.equal('arn:aws:us-east-1:greengrass:configuration:thinggroup/group1:1');
    expect(d.groupName).to.equal('thinggroup/group1');
    expect(d.timestamp).to.equal(1592574829000);
    expect(d.rootComponents).to.deep.equal({ CustomerApp: '1.0.0' });
  });

  it('SampleJobDocumentWithUser_1: PascalCase RunWith with camelCase systemResourceLimits [DP-30]', () => {
    expect(doc('SampleJobDocumentWithUser_1.json').runWith.CustomerAppStartupShutdown).to.deep.equal({
      posixUser: 'nobody',
      windowsUser: 'integ-tester',
      systemResourceLimits: { memory: 1024000, cpus: 1.5 },
    });
  });

  it('ComponentConfigTest_DeployDocument_2/_5: MERGE with an explicit null, RESET [""] [CF-23, CF-25]', () => {
    const merge = doc('ComponentConfigTest_DeployDocument_2.json').configurationUpdates[
      'aws.iot.gg.test.integ.ComponentConfigTestService'
    ].merge;
    expect(merge).to.have.property('willBeNullKey', null);
    expect(merge?.listKey).to.deep.equal(['item3']);
    expect(
      doc('ComponentConfigTest_DeployDocument_5.json').configurationUpdates[
        'aws.iot.gg.test.integ.ComponentConfigTestService'
      ],
    ).to.deep.equal({ reset: [''] });
  });

  it('SampleJobDocument_updated: the legacy per-package Configuration is a MERGE, with a warning', () => {
    const r = parseFixture('SampleJobDocument_updated.json');
    if (!r.ok) expect.fail();
    expect(r.document.configurationUpdates.CustomerApp).to.deep.equal({
      merge: { sampleText: 'This is a new value' },
    });
    expect(r.warnings.map((w) => w.path)).to.deep.equal(['Packages[0].Configuration']);
  });

  it('SkipPolicyCheck: action without Timeout keeps the 60 s default [DP-17]', () => {
    expect(doc('SkipPolicyCheck.json').componentUpdatePolicy).to.deep.equal({
      action: 'SKIP_NOTIFY_COMPONENTS',
      timeoutSeconds: 60,
    });
  });

  it('Local_override_request: componentsToMerge on the LOCAL_DEPLOYMENT group, local policies [DP-02, DP-22]', () => {
    const d = doc('Local_override_request.json');
    expect(d.deploymentId).to.equal('f7fe5b16-574a-11ea-82b4-0242ac130004');
    expect(d.groupName).to.equal('LOCAL_DEPLOYMENT');
    expect(d.rootsMode).to.equal('merge');
    expect(d.rootComponents).to.deep.equal({ CustomerApp: '1.0.0' });
    expect(d.componentUpdatePolicy.action).to.equal('SKIP_NOTIFY_COMPONENTS');
    expect(d.configurationValidationPolicy.timeoutSeconds).to.equal(20);
  });

  it('lite basic_document: add/remove maps, directories, explicit nulls; capabilities are not a local field', () => {
    const r = parseFixture('basic_document.json');
    if (!r.ok) expect.fail(JSON.stringify(r.problems));
    const d = r.document;
    expect(d.groupName).to.equal('TestGroup');
    expect(d.rootComponents).to.deep.equal({ 'com.example.HelloWorld': '1.0.0' });
    expect(d.rootComponentsToRemove).to.deep.equal(['com.example.HelloWorld']);
    expect(d.recipeDirectoryPath).to.equal('/path/to/recipes');
    expect(d.artifactsDirectoryPath).to.equal('/path/to/artifacts');
    expect(d.failureHandlingPolicy).to.equal('DO_NOTHING');
    expect(d.requiredCapabilities).to.deep.equal([]);
    expect(r.warnings.map((w) => w.path)).to.include('requiredCapabilities');
  });
});
