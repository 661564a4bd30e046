import { hashPassword, randomSecret, verifyPassword } from './password-hash';

/**
 * A password verification that always fails and costs what a real one costs: scrypt against a hash
 * made by hashPassword (so it follows password-hash.ts's parameters) of a random secret nobody knows.
 * Logins run it where there is no stored hash to check (an unknown username, a customer login whose
 * password is sealed rather than hashed, or one with no password at all), so how long a refusal takes
 * does not tell which usernames exist. The hash is made at creation, so the first refusal is not the
 * slow one.
 */
export function createDummyPasswordCheck(): (password: string) => Promise<false> {
  const dummyHash = hashPassword(randomSecret());
  return async (password) => {
    await verifyPassword(password, await dummyHash).catch(() => false);
    return false;
  };
}
