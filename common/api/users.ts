/**
 * Operator users and read-only MQTT consumer credentials (issue 11), shared by the hub's routes
 * (hub/identity/user-admin-routes.ts, hub/identity/password-routes.ts, hub/edges/edge-routes.ts) and
 * web/pages/users.js through JSDoc imports.
 */
import type { Role } from './session';

/** A user of an operator (tenant) as the users page shows it; never a password or its hash. */
export interface OperatorUserView {
  userId: string;
  username: string;
  role: Role;
  operatorId?: string;
  createdAtMs: number;
  /** false once disabled: the user cannot log in and every session of theirs has ended. */
  enabled: boolean;
  disabledAtMs?: number;
  /** The password was set by someone else (a reset): the user must change it at next login. */
  mustChangePassword: boolean;
}

/** GET /api/v1/operators/:op/users */
export interface UsersResponse { users: OperatorUserView[] }

/** POST /api/v1/operators/:op/users (the password is the admin's choice; see the reset for a generated one). */
export interface CreateUserRequest { username: string; password: string; role: 'operator_admin' | 'operator_readonly' }
export interface CreateUserResponse { user: Pick<OperatorUserView, 'userId' | 'username' | 'role' | 'operatorId'> }

/** PATCH /api/v1/operators/:op/users/:userId: disabling ends the user's sessions. */
export interface UpdateUserRequest { enabled: boolean }
export interface UpdateUserResponse { user: OperatorUserView; endedSessions: number }

/** POST /api/v1/operators/:op/users/:userId/password: shown once; the user must change it at next login. */
export interface PasswordResetResponse {
  user: Pick<OperatorUserView, 'userId' | 'username' | 'role' | 'operatorId'> & { mustChangePassword: true };
  oneTimePassword: string;
}

/** A read-only MQTT consumer (reads summaries, status, live and stored topics of its tenant). */
export interface ConsumerView { username: string; operatorId: string; name: string; createdAtMs: number }

/** GET /api/v1/operators/:op/consumers */
export interface ConsumersResponse { consumers: ConsumerView[] }

/** POST /api/v1/operators/:op/consumers {name}: the password is in this answer only. */
export interface CreateConsumerResponse {
  consumer: ConsumerView;
  credentials: { tenantId: string; mqttUrl: string; username: string; password: string };
}
