// A record's value shown compactly by field type (the table's cells, the relation picker's rows).
import { fileUrl } from '../../api.js';
import { formatDate, formatNumber, t } from '../../i18n/index.js';
import { findCollection } from '../../store/collections.js';
import { Icon } from '../../ui/icon.jsx';
import { asList, isImage, presentRecord, stripHtml, truncate } from './util.js';

export function FileThumb({ record, name, token, size = 100 }) {
  const url = fileUrl(record, name, { token });
  if (isImage(name)) {
    return (
      <a class="rec-thumb" href={url} target="_blank" rel="noopener noreferrer" title={name} onClick={(e) => e.stopPropagation()}>
        <img src={fileUrl(record, name, { thumb: `${size}x${size}`, token })} alt={name} loading="lazy" width={36} height={36} />
      </a>
    );
  }
  return (
    <a class="rec-thumb rec-thumb-file" href={url} target="_blank" rel="noopener noreferrer" title={name} onClick={(e) => e.stopPropagation()}>
      <Icon name="file" size={18} />
      <span class="sr-only">{name}</span>
    </a>
  );
}

/** The value of `field` in `record`, compact. */
export function CellValue({ field, record, token }) {
  const v = record[field.name];
  const empty = <span class="muted">—</span>;
  switch (field.type) {
    case 'bool':
      return v ? <span class="badge badge-success">{t('records.true')}</span> : <span class="badge">{t('records.false')}</span>;
    case 'number':
      return v === null || v === undefined ? empty : <span class="rec-num">{formatNumber(v)}</span>;
    case 'date':
    case 'autodate':
      return v ? <time dateTime={String(v).replace(' ', 'T')} class="nowrap">{formatDate(v)}</time> : empty;
    case 'select': {
      const list = asList(v);
      if (!list.length) return empty;
      return (
        <span class="rec-badges">
          {list.map((x) => (
            <span key={x} class="badge badge-info">
              {x}
            </span>
          ))}
        </span>
      );
    }
    case 'json': {
      if (v === null || v === undefined || v === '') return empty;
      return <code class="rec-json">{truncate(JSON.stringify(v), 60)}</code>;
    }
    case 'file': {
      const list = asList(v);
      if (!list.length) return empty;
      return (
        <span class="rec-thumbs">
          {list.slice(0, 4).map((n) => (
            <FileThumb key={n} record={record} name={n} token={field.protected ? token : undefined} />
          ))}
          {list.length > 4 && <span class="muted small">+{formatNumber(list.length - 4)}</span>}
        </span>
      );
    }
    case 'relation': {
      const ids = asList(v);
      if (!ids.length) return empty;
      const rel = findCollection(field.collectionId);
      const expanded = asList(record.expand?.[field.name]);
      return (
        <span class="rec-badges">
          {ids.slice(0, 3).map((id) => {
            const r = expanded.find((x) => x.id === id);
            return (
              <span key={id} class="badge rec-rel">
                {truncate(r ? presentRecord(r, rel) : id, 40)}
              </span>
            );
          })}
          {ids.length > 3 && <span class="muted small">+{formatNumber(ids.length - 3)}</span>}
        </span>
      );
    }
    case 'geoPoint':
      if (!v || (v.lon === 0 && v.lat === 0)) return empty;
      return (
        <span class="nowrap">
          {t('records.geo.short', { lon: formatNumber(v.lon, { maximumFractionDigits: 6 }), lat: formatNumber(v.lat, { maximumFractionDigits: 6 }) })}
        </span>
      );
    case 'editor': {
      const text = stripHtml(v);
      return text ? <span>{truncate(text, 80)}</span> : empty;
    }
    case 'url':
      return v ? <span class="ellipsis rec-text">{v}</span> : empty;
    case 'password':
      return <span class="muted">••••••</span>;
    default:
      if (v === null || v === undefined || v === '') return empty;
      return <span class="rec-text">{truncate(typeof v === 'object' ? JSON.stringify(v) : v, 80)}</span>;
  }
}
