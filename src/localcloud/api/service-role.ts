// AssociateServiceRoleToAccount [CP-23], DisassociateServiceRoleFromAccount [CP-33],
// GetServiceRoleForAccount [CP-39]; note the capitalised JSON names [CP-07].
import type { CloudContext } from '../context.js';
import type { Route } from '../http/router.js';
import { requiredString } from '../validate.js';

const ROLE_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:role\/.+$/;

export function serviceRoleRoutes(ctx: CloudContext): Route[] {
  return [
    {
      method: 'PUT',
      path: '/greengrass/servicerole',
      operation: 'AssociateServiceRoleToAccount',
      handler: ({ body }) => {
        const roleArn = requiredString(body, 'RoleArn', {
          pattern: ROLE_ARN,
          patternText: 'an IAM role ARN, arn:aws:iam::<account>:role/<name>',
        });
        const associatedAt = new Date(ctx.now()).toISOString();
        ctx.store.serviceRole.set({ roleArn, associatedAt });
        return { status: 200, body: { AssociatedAt: associatedAt } };
      },
    },
    {
      method: 'GET',
      path: '/greengrass/servicerole',
      operation: 'GetServiceRoleForAccount',
      handler: () => {
        const role = ctx.store.serviceRole.get();
        return { status: 200, body: role ? { AssociatedAt: role.associatedAt, RoleArn: role.roleArn } : {} };
      },
    },
    {
      method: 'DELETE',
      path: '/greengrass/servicerole',
      operation: 'DisassociateServiceRoleFromAccount',
      handler: () => {
        ctx.store.serviceRole.clear();
        return { status: 200, body: { DisassociatedAt: new Date(ctx.now()).toISOString() } };
      },
    },
  ];
}
