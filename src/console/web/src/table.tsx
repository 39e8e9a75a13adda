/** The header row of a data table: column titles, numeric ones right-aligned, hidden ones for screen readers only. */
export interface Column {
  title: string;
  num?: boolean;
  /** Read by screen readers, not shown (e.g. a column of buttons). */
  hidden?: boolean;
}

export function TableHead(props: { columns: Array<string | Column> }) {
  return (
    <thead>
      <tr>
        {props.columns.map((c) => {
          const column = typeof c === 'string' ? { title: c } : c;
          return (
            <th key={column.title} scope="col" class={column.num ? 'num' : undefined}>
              {column.hidden ? <span class="visually-hidden">{column.title}</span> : column.title}
            </th>
          );
        })}
      </tr>
    </thead>
  );
}
