/**
 * Customers log in with the username/password of their NetFlow access records (hub/access).
 * The identity module finds the customer logins named like the login attempt in login-names.ts and
 * asks this port about each (operatorId and the username exactly as claimed).
 * Contract: every call costs about one scrypt verification, whatever the answer, so a customer,
 * an operator user and an unknown username take equally long to refuse.
 */
export interface CustomerLoginVerifier {
  verify(operatorId: string, username: string, password: string): Promise<{ operatorId: string; customerLogin: string } | undefined>;
}
