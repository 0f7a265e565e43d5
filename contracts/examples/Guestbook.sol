// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAgentAccount} from "../agents/IAgentAccount.sol";
import {TextFeatures} from "./TextFeatures.sol";

/// @title Guestbook
/// @notice The agent demo's guestbook: anyone posts a short text; a guard agent (an
/// {IAgentAccount} set once by the deployer) is given a task for each post, reads the post's
/// features on-chain ({featuresOf}: the spam model's input, computed from the stored text by
/// {TextFeatures}, so nobody's word stands between the post and what the model is asked), and
/// hides the post ({hide}) when its policy maps the model's Finalized answer to that action.
///
/// The guard's policy for this guestbook: input `ViewCall` of `(guestbook, featuresOf.selector)`
/// with the task's argument (the post id: each task is `abi.encode(postId)`), action for the
/// spam class `(guestbook, hide.selector, TaskArg)`. Who pays for moderation is the agent
/// owner's choice: make the guestbook an operator of the agent (posts are then free, the
/// agent's budget pays each request; the demo does this), or leave it a stranger and set the
/// policy's `minTaskFee`, which each poster then sends with {post} and the guestbook forwards.
/// Being an operator lets an account pause the agent and set its keeper tip too; this contract
/// never does either: its only call to the agent is `postTask`.
///
/// Texts are stored as contract code (one small data contract per post, read back with
/// EXTCODECOPY): writing costs 200 gas a byte instead of about 700 in storage, and reading the
/// whole text, which the guard's wake does through {featuresOf}, costs one cold account access
/// instead of 2,100 gas per 32 bytes. Texts are at most {MAX_TEXT_BYTES} long, which bounds the
/// gas of {featuresOf} and so of the guard's wake.
contract Guestbook {
    /// @notice The longest text a post takes, in bytes.
    uint256 public constant MAX_TEXT_BYTES = 4096;

    /// @notice A post: who wrote it and when, whether the guard hid it, and where its text is.
    struct Post {
        address author;
        uint64 postedAt;
        bool hidden;
        address text;
    }

    /// @notice Only the deployer sets the guard.
    error GuestbookNotDeployer(address caller);
    /// @notice The guard is set once; it already is.
    error GuestbookGuardAlreadySet(address guard);
    /// @notice The guard cannot be the zero address.
    error GuestbookZeroGuard();
    /// @notice Only the guard hides posts.
    error GuestbookNotGuard(address caller);
    /// @notice No post has this id (ids start at 1).
    error GuestbookUnknownPost(uint256 postId);
    /// @notice The post is hidden already.
    error GuestbookAlreadyHidden(uint256 postId);
    /// @notice A post needs a text.
    error GuestbookEmptyText();
    /// @notice A text of `length` bytes, above `maxLength`.
    error GuestbookTextTooLong(uint256 length, uint256 maxLength);
    /// @notice ETH sent with a post while no guard takes a task fee.
    error GuestbookUnexpectedValue(uint256 value);
    /// @notice The text could not be stored (its data contract was not created).
    error GuestbookStoreFailed();

    event GuardSet(address indexed guard);
    /// @notice Post `postId` by `author`; `taskId` is the guard's task for it
    /// (`type(uint256).max` when no guard is set).
    event Posted(uint256 indexed postId, address indexed author, uint256 taskId, string text);
    event Hidden(uint256 indexed postId, address indexed guard);

    address private immutable _deployer;
    address private _guard;
    uint256 private _postCount;
    mapping(uint256 postId => Post) private _posts;

    constructor() {
        _deployer = msg.sender;
    }

    /// @notice The deployer names the guard agent's account, once. Emits {GuardSet}.
    function setGuard(address agentAccount) external {
        // INVARIANT: the guard, which alone hides posts, is chosen by the deployer and never changes.
        if (msg.sender != _deployer) revert GuestbookNotDeployer(msg.sender);
        if (_guard != address(0)) revert GuestbookGuardAlreadySet(_guard);
        if (agentAccount == address(0)) revert GuestbookZeroGuard();
        _guard = agentAccount;
        emit GuardSet(agentAccount);
    }

    /// @notice Posts `text` (1 to {MAX_TEXT_BYTES} bytes) and, when a guard is set, gives it the
    /// task `abi.encode(postId)` with the ETH sent (its task fee; none when the guestbook is one
    /// of the agent's operators). Reverts with the agent's error if it refuses the task (paused,
    /// fee too low): a guarded guestbook takes no post its guard will not look at.
    /// Emits {Posted}.
    function post(string calldata text) external payable returns (uint256 postId) {
        uint256 length = bytes(text).length;
        if (length == 0) revert GuestbookEmptyText();
        // INVARIANT: featuresOf, which the guard's wake runs, stays within a bounded gas.
        if (length > MAX_TEXT_BYTES) revert GuestbookTextTooLong(length, MAX_TEXT_BYTES);
        address guardAccount = _guard;
        if (guardAccount == address(0) && msg.value != 0) revert GuestbookUnexpectedValue(msg.value);
        postId = ++_postCount;
        _posts[postId] = Post({
            author: msg.sender,
            postedAt: uint64(block.timestamp),
            hidden: false,
            text: _store(bytes(text))
        });
        uint256 taskId = type(uint256).max;
        if (guardAccount != address(0))
            taskId = IAgentAccount(guardAccount).postTask{value: msg.value}(abi.encode(postId));
        emit Posted(postId, msg.sender, taskId, text);
    }

    /// @notice The guard hides post `postId` (its text stays readable: hiding is a flag that
    /// front ends honour). Emits {Hidden}.
    function hide(uint256 postId) external {
        // INVARIANT: a post is hidden by the guard agent's action, that is on a Finalized result.
        if (msg.sender != _guard) revert GuestbookNotGuard(msg.sender);
        Post storage p = _existing(postId);
        if (p.hidden) revert GuestbookAlreadyHidden(postId);
        p.hidden = true;
        emit Hidden(postId, msg.sender);
    }

    /// @notice The spam model's input for post `postId`: the canonical int8 `[1, 512]` tensor of
    /// its text ({TextFeatures-tensorOf}). The guard's `ViewCall` input.
    function featuresOf(uint256 postId) external view returns (bytes memory) {
        return TextFeatures.tensorOf(_load(_existing(postId).text));
    }

    /// @notice The text of post `postId`.
    function textOf(uint256 postId) external view returns (string memory) {
        return string(_load(_existing(postId).text));
    }

    /// @notice Post `postId` (its `text` field is where the text is stored; see {textOf}).
    function postOf(uint256 postId) external view returns (Post memory) {
        return _existing(postId);
    }

    /// @notice Whether the guard hid post `postId`.
    function isHidden(uint256 postId) external view returns (bool) {
        return _existing(postId).hidden;
    }

    /// @notice How many posts there are; their ids are 1 to this.
    function postCount() external view returns (uint256) {
        return _postCount;
    }

    /// @notice The guard agent's account (zero until set).
    function guard() external view returns (address) {
        return _guard;
    }

    /// @notice Who may set the guard.
    function deployer() external view returns (address) {
        return _deployer;
    }

    function _existing(uint256 postId) private view returns (Post storage p) {
        p = _posts[postId];
        if (p.author == address(0)) revert GuestbookUnknownPost(postId);
    }

    /// @dev Deploys a contract whose code is `0x00 ‖ data` (a STOP first, so calling it does
    /// nothing) and returns its address. Creation code: PUSH2 size, DUP1, PUSH1 10,
    /// RETURNDATASIZE (0), CODECOPY, RETURNDATASIZE (0), RETURN — then the runtime code.
    function _store(bytes memory data) private returns (address pointer) {
        bytes memory init = abi.encodePacked(hex"61", uint16(data.length + 1), hex"80600a3d393df300", data);
        assembly ("memory-safe") {
            pointer := create(0, add(init, 0x20), mload(init))
        }
        if (pointer == address(0)) revert GuestbookStoreFailed();
    }

    /// @dev The data stored at `pointer` by {_store}.
    function _load(address pointer) private view returns (bytes memory data) {
        uint256 size = pointer.code.length - 1;
        data = new bytes(size);
        assembly ("memory-safe") {
            extcodecopy(pointer, add(data, 0x20), 1, size)
        }
    }
}
