import { useState } from 'preact/hooks';
import { useAction } from '../../action';
import { api } from '../../api';
import { SubmitButton, TextField } from '../../fields';
import { formatDateTime } from '../../format-date';
import { TableHead } from '../../table';
import { Card, ErrorNote, useId, useLoad } from '../../ui';
import type { Member, ProjectRights, User } from './types';

function AddMember(props: { projectId: string; members: Member[]; listUsers: boolean; onAdded: () => void }) {
  const [email, setEmail] = useState('');
  const [added, setAdded] = useState<string | null>(null);
  const listId = useId('users');
  const users = useLoad(() => (props.listUsers ? api<User[]>('/admin/users') : Promise.resolve([])), [props.listUsers]);
  const candidates = (users.data ?? []).filter((u) => !props.members.some((m) => m.user_id === u.id));
  const add = useAction(async () => {
    setAdded(null);
    const member = await api<Member>(`/projects/${props.projectId}/members`, { json: { email: email.trim() } });
    setAdded(member.email);
    setEmail('');
    props.onAdded();
  });
  return (
    <form class="add-member" onSubmit={add.submit}>
      <h3>Add a member</h3>
      <div class="row form-row">
        <TextField
          label="Member's email"
          hint={
            props.listUsers
              ? 'Type or pick one of the users. They join with the role member.'
              : 'They join with the role member.'
          }
          type="email"
          required
          autocomplete="off"
          list={props.listUsers ? listId : undefined}
          value={email}
          onInput={setEmail}
        />
        <SubmitButton action={add} label="Add member" busyLabel="Adding…" inRow />
      </div>
      {props.listUsers && (
        <datalist id={listId}>
          {candidates.map((u) => (
            <option key={u.id} value={u.email} />
          ))}
        </datalist>
      )}
      <ErrorNote error={add.error ?? users.error} />
      {added && (
        <p class="note success" role="status">
          {added} was added.
        </p>
      )}
    </form>
  );
}

export function MembersCard(props: {
  projectId: string;
  members: Member[];
  rights: ProjectRights;
  onChanged: () => void;
}) {
  return (
    <Card title="Members">
      <div class="table-wrap">
        <table>
          <TableHead columns={['Email', 'Role', 'Added']} />
          <tbody>
            {props.members.map((m) => (
              <tr key={m.user_id}>
                <td>{m.email}</td>
                <td>
                  <span class={`badge role-${m.role}`}>{m.role}</span>
                </td>
                <td>{formatDateTime(m.added_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {props.rights.manageMembers ? (
        <AddMember
          projectId={props.projectId}
          members={props.members}
          listUsers={props.rights.listUsers}
          onAdded={props.onChanged}
        />
      ) : (
        <p class="muted">Only the project's owner or an administrator adds members.</p>
      )}
    </Card>
  );
}
