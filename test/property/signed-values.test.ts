/**
 * Properties of the signed Terminate button values (src/slack/signed-values.ts): whatever names
 * and ids a message carries, signing gives a value that fits a button and reads back as itself,
 * or no button at all; it never throws while a message is being built.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { createValueSigner, type TerminateValue } from '../../src/slack/signed-values.js';
import { heavyText, hostileText, longHostileText } from './arbitraries.js';
import { settings } from './settings.js';

const signer = createValueSigner('property-test-secret');

const name = fc.oneof(hostileText, longHostileText, heavyText);
const refresh = fc.record(
  { q: fc.oneof(hostileText, longHostileText), p: fc.integer({ min: 0, max: 10_000 }) },
  { requiredKeys: [] },
);

/** Values as the answer builds them: ids and names from AWS and people, any length. */
const terminateValue: fc.Arbitrary<TerminateValue> = fc.oneof(
  fc
    .tuple(fc.record({ e: hostileText, c: hostileText, n: name }), refresh)
    .map(([value, extra]) => ({ k: 'conn' as const, ...value, ...extra })),
  fc
    .tuple(
      fc.record({ n: name, e: fc.array(hostileText, { maxLength: 5 }) }, { requiredKeys: ['n'] }),
      refresh,
    )
    .map(([value, extra]) => ({ k: 'user' as const, ...value, ...extra })),
);

describe('signed button values, for any names and ids', () => {
  it('fit in a button and verify as the very value signed, or are null: never a throw', () => {
    fc.assert(
      fc.property(terminateValue, (value) => {
        const signed = signer.sign(value);
        if (signed === null) return;
        expect(signed.length).toBeLessThanOrEqual(2000);
        expect(signer.verify(signed)).toEqual(value);
      }),
      settings(),
    );
  });

  it('refuse any change to a signed value', () => {
    fc.assert(
      fc.property(
        terminateValue,
        fc.nat(),
        fc.constantFrom(...'AZaz09-_.'),
        (value, at, replacement) => {
          const signed = signer.sign(value);
          if (signed === null) return;
          const i = at % signed.length;
          fc.pre(signed[i] !== replacement);
          const tampered = `${signed.slice(0, i)}${replacement}${signed.slice(i + 1)}`;
          expect(() => signer.verify(tampered)).toThrow(UsageError);
        },
      ),
      settings(),
    );
  });
});

describe('signed button values, on the counterexample the properties found', () => {
  it('gives no button, rather than an error, for a user name longer than a value may carry', () => {
    expect(signer.sign({ k: 'user', n: 'a'.repeat(200) })).toBeNull();
  });
});
