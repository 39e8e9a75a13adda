import 'reflect-metadata';
import { IsInt, IsOptional, IsString, getMetadataStorage, validateSync } from 'class-validator';
import { cacheValidationMetadata } from '../../src/common/http/validation-metadata-cache';

const rules = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true };

class Base {
  @IsString()
  name!: string;
}

class Child extends Base {
  @IsOptional()
  @IsInt()
  count?: number;
}

function problems(target: object): string[] {
  return validateSync(target, rules).map((e) => e.property);
}

function child(values: Record<string, unknown>): Child {
  return Object.assign(new Child(), values);
}

describe('cacheValidationMetadata', () => {
  beforeAll(() => cacheValidationMetadata());

  it('is installed once, however often it is called', () => {
    const storage = getMetadataStorage();
    const lookup = storage.getTargetValidationMetadatas;
    cacheValidationMetadata();
    expect(storage.getTargetValidationMetadatas).toBe(lookup);
  });

  it('answers repeated lookups with the same metadata, inherited rules included', () => {
    const storage = getMetadataStorage();
    const first = storage.getTargetValidationMetadatas(Child, '', false, false);
    expect(storage.getTargetValidationMetadatas(Child, '', false, false)).toBe(first);
    expect(first.map((m) => m.propertyName).sort()).toEqual(['count', 'count', 'name']);
  });

  it('validates as before, time after time: own and inherited rules, unknown fields', () => {
    for (let i = 0; i < 3; i++) {
      expect(problems(child({ name: 'a', count: 2 }))).toEqual([]);
      expect(problems(child({ name: 1, count: 'x' })).sort()).toEqual(['count', 'name']);
      expect(problems(child({ name: 'a', extra: true }))).toEqual(['extra']);
    }
  });

  it('sees a rule added after the first validations', () => {
    class Late {
      @IsString()
      a!: string;
    }
    // Not modelled yet: refused as unknown.
    expect(problems(Object.assign(new Late(), { a: 'x', b: 'y' }))).toEqual(['b']);
    IsString()(Late.prototype, 'b');
    expect(problems(Object.assign(new Late(), { a: 'x', b: 'y' }))).toEqual([]);
    expect(problems(Object.assign(new Late(), { a: 'x', b: 5 }))).toEqual(['b']);
  });

  it('leaves validation with groups to class-validator, uncached', () => {
    class Grouped {
      @IsString({ groups: ['strict'] })
      a!: string;
    }
    const value = Object.assign(new Grouped(), { a: 5 });
    expect(validateSync(value, { groups: ['strict'] }).map((e) => e.property)).toEqual(['a']);
    expect(validateSync(value, { groups: ['other'], forbidUnknownValues: false })).toEqual([]);
  });
});
