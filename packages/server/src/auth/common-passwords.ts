import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * ASVS 6.2.4: refuse the passwords attackers try first. The list is zxcvbn-ts's common-passwords
 * dictionary (MIT; about 49,000 entries ranked by frequency in breach corpora), compared
 * case-insensitively. Built once, on first use.
 */
let common: Set<string> | undefined;

export function isCommonPassword(password: string): boolean {
  common ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  return common.has(password.toLowerCase());
}
