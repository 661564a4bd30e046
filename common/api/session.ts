/** Login, session and the operator list (hub/identity/identity-routes.ts, password-routes.ts). */

export type Role = 'super_admin' | 'operator_admin' | 'operator_readonly' | 'customer';

/** Who is logged in. Operators' users and customers always carry their operatorId (tenant). */
export interface PrincipalView {
  userId: string;
  username: string;
  role: Role;
  operatorId?: string;
  /** For role 'customer': the login shared by the customer's access records. */
  customerLogin?: string;
}

/** POST /api/v1/login. operatorId: the organization, needed only when the name is ambiguous. */
export interface LoginRequest {
  username: string;
  password: string;
  operatorId?: string;
}

/** POST /api/v1/login; the session is also set as the HttpOnly cookie fb_session. */
export interface LoginResponse {
  token: string;
  principal: PrincipalView;
  expiresAtMs: number;
}

/** GET /api/v1/me. mustChangePassword: the hub answers nothing else until the password is changed. */
export interface MeResponse {
  principal: PrincipalView;
  mustChangePassword: boolean;
}

/**
 * GET /api/v1/session: like /me, but 200 without a session too (principal null), so the web UI can
 * ask at load without a 401.
 */
export interface SessionResponse {
  principal: PrincipalView | null;
  mustChangePassword: boolean;
}

/** POST /api/v1/me/password. */
export interface PasswordChangeRequest {
  currentPassword: string;
  newPassword: string;
}

/** POST /api/v1/me/password: endedSessions = the caller's other sessions that were logged out. */
export interface PasswordChangeResponse {
  ok: true;
  endedSessions: number;
}

/** An operator (tenant). */
export interface OperatorView {
  operatorId: string;
  name: string;
  createdAtMs: number;
}

/** GET /api/v1/operators: every operator for super_admin, the caller's own for operators' users. */
export interface OperatorsResponse {
  operators: OperatorView[];
}

/** GET /api/v1/operators/:op, POST /api/v1/operators. */
export interface OperatorResponse {
  operator: OperatorView;
}

/** Any failed call: the one error middleware (hub/http/error-middleware.ts). */
export interface ErrorResponse {
  error: { code: string; message: string; details?: Record<string, unknown> };
}
