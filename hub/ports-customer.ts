/**
 * Customers log in with the username/password of their NetFlow access records (hub/access).
 * The identity module asks this port when the username is not an operator user.
 */
export interface CustomerLoginVerifier {
  verify(username: string, password: string): Promise<{ operatorId: string; customerLogin: string } | undefined>;
}
