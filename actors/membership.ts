/**
 * Who belongs to a conversation, and what each role may do: pure functions of the member list,
 * shared by the conversation machine (which alone changes the list, through `membership` events
 * in its log) and by the server's access checks (docs/SECURITY.md).
 */

/** A member's role: `owner` (reads, posts, manages members), `member` (reads and posts), `viewer` (reads). */
export type Role = 'owner' | 'member' | 'viewer';

/** Every role, most powerful first. */
export const ROLES: readonly Role[] = ['owner', 'member', 'viewer'];

/** One member of a conversation. */
export interface Member {
  userId: string;
  role: Role;
}

/**
 * One change of the member list: `role` sets a user's role (adding them when new), `null`
 * removes them.
 */
export interface MemberChange {
  userId: string;
  role: Role | null;
}

/** What a membership event did, as its frame says it. */
export type MembershipAction = 'created' | 'added' | 'changed' | 'removed';

/**
 * The member list after some changes, in the order members were first added.
 *
 * @example
 * applyMemberChanges([], [{ userId: 'alice', role: 'owner' }]) // [{ userId: 'alice', role: 'owner' }]
 */
export function applyMemberChanges(
  members: readonly Member[],
  changes: readonly MemberChange[],
): Member[] {
  let next = [...members];
  for (const change of changes) {
    const index = next.findIndex((member) => member.userId === change.userId);
    if (change.role === null) {
      if (index >= 0) next = next.filter((_, position) => position !== index);
    } else if (index >= 0) {
      next[index] = { userId: change.userId, role: change.role };
    } else {
      next.push({ userId: change.userId, role: change.role });
    }
  }
  return next;
}

/** The role of a user, or undefined when they are not a member. */
export function roleOf(members: readonly Member[], userId: string): Role | undefined {
  return members.find((member) => member.userId === userId)?.role;
}

/**
 * Whether a participant may write (post, cancel, answer approvals, type): anyone whose access
 * does not come from a role (`open` mode, or a grant by claim, admin or the application's
 * hook), else an owner or a member, never a viewer.
 *
 * @example
 * mayWrite(undefined) // true
 * mayWrite('viewer') // false
 */
export function mayWrite(role: Role | undefined): boolean {
  return role !== 'viewer';
}

/**
 * Whether a connected participant may write: its connection is not read-only (the `authorize`
 * hook refused `post` at the upgrade) and its role, if any, may ({@link mayWrite}). The one rule
 * for posting, cancelling, typing and answering approvals.
 *
 * @example
 * participantMayWrite({ role: 'member' }) // true
 * participantMayWrite({ role: 'member', readOnly: true }) // false
 */
export function participantMayWrite(participant: { role?: Role; readOnly?: true }): boolean {
  return participant.readOnly !== true && mayWrite(participant.role);
}

/** Whether a role may change members or delete the conversation. */
export function mayManage(role: Role | undefined): boolean {
  return role === 'owner';
}

/** The action a change is, for its frame: a new member is `added`, a known one `changed`. */
export function membershipActionOf(
  members: readonly Member[],
  change: MemberChange,
): Exclude<MembershipAction, 'created'> {
  if (change.role === null) return 'removed';
  return roleOf(members, change.userId) === undefined ? 'added' : 'changed';
}
