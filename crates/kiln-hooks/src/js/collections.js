// Collections as JavaScript changes them (`Collection`, `Field` and its typed kin, `unmarshal`),
// and `migrate(up, down)` for the files of pb_migrations.
(() => {
  'use strict';
  const native = globalThis.__kiln;
  const js = native.js;

  const FIELD_TYPES = {
    TextField: 'text', NumberField: 'number', BoolField: 'bool', EmailField: 'email', URLField: 'url',
    EditorField: 'editor', DateField: 'date', AutodateField: 'autodate', SelectField: 'select',
    FileField: 'file', RelationField: 'relation', JSONField: 'json', PasswordField: 'password', GeoPointField: 'geoPoint',
  };

  // A field: its JSON definition as properties.
  class Field {
    constructor(data) {
      Object.assign(this, data ?? {});
    }
    getId() { return this.id ?? ''; }
    getName() { return this.name ?? ''; }
    type_() { return this.type; }
  }
  for (const [name, type] of Object.entries(FIELD_TYPES)) {
    const C = class extends Field {
      constructor(data) {
        super(data);
        this.type = type;
      }
    };
    Object.defineProperty(C, 'name', { value: name });
    globalThis[name] = C;
  }
  globalThis.Field = Field;

  // A collection's fields, an array with PocketBase's FieldsList methods.
  class FieldsList extends Array {
    static get [Symbol.species]() { return Array; }
    getById(id) { return this.find((f) => f.id === id) ?? null; }
    getByName(name) { return this.find((f) => f.name === name) ?? null; }
    fieldNames() { return this.map((f) => f.name); }
    // adds, or replaces the field of the same id (else name) where it stands
    add(...fields) {
      for (const f of fields) this.addAt(this.length, f);
    }
    addAt(pos, ...fields) {
      for (const raw of fields) {
        const f = raw instanceof Field ? raw : new Field(raw);
        const at = this.findIndex((x) => (f.id && x.id === f.id) || (!f.id && x.name === f.name));
        if (at >= 0) {
          this.splice(at, 1);
        }
        this.splice(Math.min(Math.max(0, pos), this.length), 0, f);
        pos += 1;
      }
    }
    removeById(id) {
      const at = this.findIndex((f) => f.id === id);
      if (at >= 0) this.splice(at, 1);
    }
    removeByName(name) {
      const at = this.findIndex((f) => f.name === name);
      if (at >= 0) this.splice(at, 1);
    }
  }
  const fieldsOf = (list) => {
    const out = new FieldsList();
    for (const f of list ?? []) out.push(f instanceof Field ? f : new Field(f));
    return out;
  };

  // A collection: its JSON definition as properties, `fields` a FieldsList.
  class Collection {
    constructor(data) {
      Object.assign(this, { type: 'base', listRule: null, viewRule: null, createRule: null, updateRule: null, deleteRule: null, indexes: [] });
      unmarshal(data ?? {}, this);
      if (!this.fields) this.fields = new FieldsList();
    }
    isAuth() { return this.type === 'auth'; }
    isView() { return this.type === 'view'; }
    isBase() { return this.type === 'base'; }
    tableName() { return this.name; }
    addIndex(name, unique, columns, where) {
      const sql = `CREATE ${unique ? 'UNIQUE ' : ''}INDEX \`${name}\` ON \`${this.name}\` (${columns})${where ? ` WHERE ${where}` : ''}`;
      this.removeIndex(name);
      this.indexes = [...(this.indexes ?? []), sql];
    }
    removeIndex(name) {
      this.indexes = (this.indexes ?? []).filter((i) => !new RegExp(`INDEX\\s+[\`"']?${name}[\`"']?\\s`, 'i').test(i));
    }
    getIndex(name) {
      return (this.indexes ?? []).find((i) => new RegExp(`INDEX\\s+[\`"']?${name}[\`"']?\\s`, 'i').test(i)) ?? '';
    }
    toJSON() {
      return { ...this, fields: [...this.fields].map((f) => ({ ...f })) };
    }
  }
  globalThis.Collection = Collection;
  js.Collection = Collection;

  // the collections API's request hooks (native.aroundRequest), and the model and after-success
  // hooks of every collection write
  js.register([
    'onCollectionViewRequest', 'onCollectionCreateRequest', 'onCollectionUpdateRequest', 'onCollectionDeleteRequest',
    'onCollectionCreate', 'onCollectionUpdate', 'onCollectionDelete',
    'onCollectionAfterCreateSuccess', 'onCollectionAfterUpdateSuccess', 'onCollectionAfterDeleteSuccess',
  ]);
  // `write(collection)` of `$app.save`/`$app.delete` inside the model hooks of event `kind`
  // (Create, Update, Delete), and the after-success ones once it is done
  js.collectionWrite = (c, kind, write) => {
    const e = { app: globalThis.$app, collection: c, type: `onCollection${kind}` };
    js.chain(e, js.handlers(e.type, c), () => {
      write(e.collection);
      const done = { app: e.app, collection: e.collection, type: `onCollectionAfter${kind}Success` };
      js.chain(done, js.handlers(done.type, e.collection), () => {});
    });
  };

  // PocketBase's unmarshal(data, target): JSON decoded onto a value; objects merge key by key,
  // anything else (arrays, fields) replaces.
  const merge = (target, data) => {
    for (const [k, v] of Object.entries(data)) {
      if (k === 'fields' && target instanceof Collection) target.fields = fieldsOf(v);
      else if (v && typeof v === 'object' && !Array.isArray(v) && target[k] && typeof target[k] === 'object' && !Array.isArray(target[k])) merge(target[k], v);
      else target[k] = v && typeof v === 'object' ? JSON.parse(JSON.stringify(v)) : v;
    }
    return target;
  };
  const unmarshal = (data, target) => merge(target, typeof data === 'string' ? JSON.parse(data) : JSON.parse(JSON.stringify(data ?? {})));
  globalThis.unmarshal = unmarshal;

  // migrate(up, down): the current file's migration (pb_migrations).
  js.migrations = new Map();
  globalThis.migrate = (up, down) => {
    const file = globalThis.__kiln_file;
    if (typeof up !== 'function') throw new TypeError('migrate(up, down): up is a function');
    if (js.migrations.has(file)) throw new Error(`${file}: migrate() is called more than once`);
    js.migrations.set(file, { up, down: typeof down === 'function' ? down : null });
  };
  native.migrationFiles = () => JSON.stringify([...js.migrations.keys()]);
  // Called by Kiln inside the migration's transaction.
  native.migrationRun = (raw) => {
    const { file, direction } = JSON.parse(raw);
    try {
      const m = js.migrations.get(file);
      if (!m) throw new Error(`${file} calls no migrate()`);
      const fn = direction === 'down' ? m.down : m.up;
      if (fn) fn(globalThis.$app);
      return '';
    } catch (err) {
      const out = js.errorJSON(err);
      return JSON.stringify(out.kiln ? out : { ...out, message: String(err?.message ?? err) });
    }
  };
})();
