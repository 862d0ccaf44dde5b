/**
 * A checker for `@odata.context` values, written from the `context` rule of the OData ABNF
 * (conformance/oasis/abnf/odata-abnf-construction-rules.txt, §3 Context URL Fragments) for the shapes
 * this service answers, with names checked against the service's CSDL JSON. On top of the ABNF it
 * enforces the OData 4.0 form (JSON Format §10.9-10.10) that strict readers such as Excel require:
 * no empty select list `()` and no `+` (a 4.01 recursive-expand marker).
 */

/** The CSDL JSON document ($metadata?$format=json), as far as the checker reads it. */
type CsdlJson = Record<string, unknown>;
type Member = { readonly kind: 'property' | 'navigation'; readonly type: string; readonly collection: boolean };

export interface ContextModel {
  readonly entitySets: ReadonlyMap<string, string>;
  readonly types: ReadonlyMap<string, ReadonlyMap<string, Member>>;
}

export function contextModel(csdl: CsdlJson): ContextModel {
  const entitySets = new Map<string, string>();
  const types = new Map<string, Map<string, Member>>();
  for (const [namespace, schema] of Object.entries(csdl)) {
    if (namespace.startsWith('$') || typeof schema !== 'object' || schema === null) continue;
    for (const [name, element] of Object.entries(schema as Record<string, unknown>)) {
      if (typeof element !== 'object' || element === null) continue;
      const el = element as Record<string, unknown>;
      if (el.$Kind === 'EntityContainer') {
        for (const [setName, set] of Object.entries(el)) {
          const s = set as Record<string, unknown>;
          if (typeof s === 'object' && s !== null && typeof s.$Type === 'string' && s.$Collection === true) entitySets.set(setName, s.$Type);
        }
      }
      if (el.$Kind === 'EntityType' || el.$Kind === 'ComplexType') {
        const members = new Map<string, Member>();
        for (const [memberName, m] of Object.entries(el)) {
          if (memberName.startsWith('$') || memberName.includes('@') || typeof m !== 'object' || m === null) continue;
          const mm = m as Record<string, unknown>;
          members.set(memberName, {
            kind: mm.$Kind === 'NavigationProperty' ? 'navigation' : 'property',
            type: typeof mm.$Type === 'string' ? mm.$Type : 'Edm.String',
            collection: mm.$Collection === true,
          });
        }
        types.set(`${namespace}.${name}`, members);
      }
    }
  }
  return { entitySets, types };
}

export type ContextCheck = { readonly ok: true } | { readonly ok: false; readonly at: number; readonly reason: string };

/** Checks one `@odata.context` value against the grammar and the model. */
export function checkContextUrl(url: string, serviceRoot: string, model: ContextModel): ContextCheck {
  const prefix = `${serviceRoot}/$metadata#`;
  if (!url.startsWith(prefix)) return { ok: false, at: 0, reason: `does not start with ${prefix}` };
  const text = url.slice(prefix.length);
  try {
    new FragmentParser(text, model).contextFragment();
    return { ok: true };
  } catch (e) {
    if (e instanceof GrammarError) return { ok: false, at: e.at, reason: e.message };
    throw e;
  }
}

class GrammarError extends Error {
  constructor(message: string, readonly at: number) {
    super(message);
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*/;
const QUALIFIED = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+/;

class FragmentParser {
  private pos = 0;
  constructor(private readonly text: string, private readonly model: ContextModel) {}

  contextFragment(): void {
    if (this.take('Collection($ref)') || this.take('$ref')) return this.end();
    if (this.take('Collection(')) {
      this.qualifiedTypeName();
      this.expect(')');
      return this.end();
    }
    const qualified = QUALIFIED.exec(this.rest());
    if (qualified) {
      this.qualifiedTypeName();
      return this.end();
    }
    const setName = this.identifier('entity set');
    const typeName = this.model.entitySets.get(setName);
    if (!typeName) this.fail(`'${setName}' is not an entity set`, this.pos - setName.length);
    if (this.peek() === '(') {
      const start = this.pos;
      const close = this.text.indexOf(')', start);
      const after = close < 0 ? '' : this.text.slice(close + 1);
      // entitySet keyPredicate "/" contextPropertyPath: a key predicate is followed by a property path
      if (after.startsWith('/') && !after.startsWith('/$entity')) {
        this.pos = close + 1;
        this.expect('/');
        this.contextPropertyPath(typeName!);
        return this.end();
      }
      this.selectList(typeName!);
    }
    this.take('/$entity');
    this.end();
  }

  private contextPropertyPath(typeName: string): void {
    const name = this.identifier('property');
    const member = this.member(typeName, name);
    if (member.kind !== 'property') this.fail(`'${name}' is not a structural property`, this.pos - name.length);
    if (this.model.types.has(member.type) && !member.collection && this.take('/')) this.contextPropertyPath(member.type);
  }

  /** selectList = OPEN selectListItem *( COMMA selectListItem ) CLOSE, never empty (4.0 form). */
  private selectList(typeName: string): void {
    const open = this.pos;
    this.expect('(');
    if (this.peek() === ')') this.fail('empty select list "()"', open);
    do this.selectListItem(typeName); while (this.take(','));
    this.expect(')');
  }

  private selectListItem(typeName: string): void {
    if (this.take('*')) return;
    this.selectListProperty(typeName);
  }

  private selectListProperty(typeName: string): void {
    const start = this.pos;
    const name = this.identifier('property');
    const member = this.member(typeName, name);
    if (member.kind === 'navigation') {
      if (this.peek() === '+') this.fail("'+' (recursive expand) is OData 4.01 only", this.pos);
      if (this.peek() === '(') this.selectList(member.type);
      return;
    }
    const complex = this.model.types.has(member.type);
    if (complex && this.take('/')) return this.selectListProperty(member.type);
    if (this.peek() === '(') this.fail(`'${name}' is not a navigation property and cannot have a select list`, start);
  }

  private qualifiedTypeName(): void {
    const match = QUALIFIED.exec(this.rest());
    if (!match) this.fail('expected a qualified type name', this.pos);
    if (!match![0].startsWith('Edm.') && !this.model.types.has(match![0])) this.fail(`unknown type ${match![0]}`, this.pos);
    this.pos += match![0].length;
  }

  private member(typeName: string, name: string): Member {
    const member = this.model.types.get(typeName)?.get(name);
    if (!member) this.fail(`'${name}' is not a member of ${typeName}`, this.pos - name.length);
    return member!;
  }

  private identifier(what: string): string {
    const match = IDENTIFIER.exec(this.rest());
    if (!match) this.fail(`expected ${what}`, this.pos);
    this.pos += match![0].length;
    return match![0];
  }

  private rest(): string { return this.text.slice(this.pos); }
  private peek(): string { return this.text[this.pos] ?? ''; }
  private take(literal: string): boolean {
    if (!this.text.startsWith(literal, this.pos)) return false;
    this.pos += literal.length;
    return true;
  }
  private expect(literal: string): void {
    if (!this.take(literal)) this.fail(`expected '${literal}'`, this.pos);
  }
  private end(): void {
    if (this.pos !== this.text.length) this.fail(`unexpected '${this.rest()}'`, this.pos);
  }
  private fail(message: string, at: number): never {
    throw new GrammarError(`${message} at ${at} in '${this.text}'`, at);
  }
}
