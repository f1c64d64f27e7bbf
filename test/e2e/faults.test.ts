// The quick fault campaign (`npm run faults -- --quick`, faults/) against the built product (dist/):
// every fault family once, each fault injected at least once, and every check after every injection
// must hold. The disk family runs beside the others: it mostly waits.
// Timings are figures of the campaign's report, never assertions here.
import { expect } from 'chai';
import { FAMILIES, runFamily, type FamilyResult } from '../../faults/campaign.js';
import { outcomeOf } from '../../faults/lib/report.js';

/** Requirement ids each family exercises, for the test names. */
const IDS: Record<string, string> = {
  kill9: '[DP-33][DP-55][DP-59][DP-64][DP-68]',
  network: '[CL-23][CL-37][CL-71][CL-75]',
  disk: '[CL-37][CF-10][CF-12][CF-17]',
  components: '[LC-29][LC-82][LC-86][LC-93]',
  hostile: '[IPC-04][IPC-12][IPC-97][DP-26][RC-16]',
};

function judge(r: FamilyResult): void {
  for (const x of r.records) console.log(`      ${outcomeOf(x).padEnd(14)} ${x.fault}`);
  expect(r.error, `${r.name} stopped early`).to.equal(undefined);
  const failed = r.records
    .filter((x) => !x.skipped && x.passed !== x.injected)
    .map((x) => `${x.fault}: ${x.failures.join(' | ')}`);
  expect(failed, 'faults whose checks failed').to.deep.equal([]);
  const notInjected = r.records.filter((x) => !x.skipped && x.injected === 0).map((x) => x.fault);
  expect(notInjected, 'faults never injected').to.deep.equal([]);
}

describe('e2e: the quick fault campaign (npm run faults -- --quick)', function () {
  this.timeout(600_000);
  let disk: Promise<FamilyResult> | undefined;

  before(function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root (components run as nobody; the disk-full faults mount a tmpfs)');
      this.skip();
    }
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    disk = runFamily(
      FAMILIES.find((f) => f.name === 'disk')!,
      { quick: true },
    );
  });
  after(async () => {
    await disk?.catch(() => undefined);
  });

  for (const family of FAMILIES.filter((f) => f.name !== 'disk'))
    it(`${IDS[family.name] ?? ''} ${family.title}`, async () => {
      judge(await runFamily(family, { quick: true }));
    });

  it(`${IDS.disk} Disk full (a tmpfs nucleus root), run beside the families above`, async () => {
    judge(await disk!);
  });
});
