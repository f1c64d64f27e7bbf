import { expect } from 'chai';
import {
  asDeploymentError,
  DeploymentError,
  failureCause,
  jobStatusOf,
  statusDetails,
} from '../../../src/deployment/index.js';

describe('deployment results', () => {
  it('[DP-64] maps results to job statuses', () => {
    expect(jobStatusOf('SUCCESSFUL')).to.equal('SUCCEEDED');
    expect(jobStatusOf('REJECTED')).to.equal('REJECTED');
    for (const s of [
      'FAILED_NO_STATE_CHANGE',
      'FAILED_ROLLBACK_NOT_REQUESTED',
      'FAILED_ROLLBACK_COMPLETE',
      'FAILED_UNABLE_TO_ROLLBACK',
    ] as const)
      expect(jobStatusOf(s)).to.equal('FAILED');
  });

  it('[DP-65] success carries only the detailed status', () => {
    expect(statusDetails({ status: 'SUCCESSFUL' }, 'CLOUD')).to.deep.equal({
      'detailed-deployment-status': 'SUCCESSFUL',
    });
  });

  it('[DP-65][DP-67] failure: cause chain joined by ". ", stack led by DEPLOYMENT_FAILURE, NONE filtered, LOCAL rewrites COMPONENT_ERROR', () => {
    const err = new DeploymentError(
      'service A is broken',
      ['COMPONENT_BROKEN'],
      ['COMPONENT_ERROR', 'NONE'],
      {
        cause: new Error('exit code 1'),
      },
    );
    const cloud = statusDetails({ status: 'FAILED_ROLLBACK_COMPLETE', error: err }, 'CLOUD');
    expect(cloud).to.deep.equal({
      'detailed-deployment-status': 'FAILED_ROLLBACK_COMPLETE',
      'deployment-failure-cause': 'service A is broken. exit code 1',
      'deployment-error-stack': '["DEPLOYMENT_FAILURE","COMPONENT_BROKEN"]',
      'deployment-error-types': '["COMPONENT_ERROR"]',
    });
    const local = statusDetails({ status: 'FAILED_ROLLBACK_COMPLETE', error: err }, 'LOCAL');
    expect(local['deployment-error-types']).to.equal('["USER_COMPONENT_ERROR"]');
    const rejected = statusDetails(
      { status: 'REJECTED', error: new DeploymentError('old', ['REJECTED_STALE_DEPLOYMENT'], []) },
      'CLOUD',
    );
    expect(rejected['deployment-error-stack']).to.equal(
      '["DEPLOYMENT_REJECTED","REJECTED_STALE_DEPLOYMENT"]',
    );
  });

  it('[DP-65] truncates each value to 1024 characters', () => {
    const err = new DeploymentError('x'.repeat(5000), [], ['NUCLEUS_ERROR']);
    const d = statusDetails({ status: 'FAILED_NO_STATE_CHANGE', error: err }, 'CLOUD');
    expect(d['deployment-failure-cause']).to.have.length(1024);
    expect(failureCause('plain')).to.equal('plain');
  });

  it('[DP-65][DP-66] a download or disk failure carries its code and type; a wrapper repeating its cause is said once', () => {
    const full = Object.assign(new Error('DISK_SPACE_CRITICAL: data.bin: the disk became full'), {
      code: 'DISK_SPACE_CRITICAL',
    });
    const d = statusDetails({ status: 'FAILED_NO_STATE_CHANGE', error: asDeploymentError(full) }, 'CLOUD');
    expect(d['deployment-error-stack']).to.equal('["DEPLOYMENT_FAILURE","DISK_SPACE_CRITICAL"]');
    expect(d['deployment-error-types']).to.equal('["DEVICE_ERROR"]');
    expect(d['deployment-failure-cause']).to.equal('DISK_SPACE_CRITICAL: data.bin: the disk became full');
    const errno = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(asDeploymentError(errno).codes).to.deep.equal(['DISK_SPACE_CRITICAL']);
    const other = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    expect(asDeploymentError(other).codes).to.deep.equal([]);
    expect(asDeploymentError(other).types).to.deep.equal(['NUCLEUS_ERROR']);
  });
});
