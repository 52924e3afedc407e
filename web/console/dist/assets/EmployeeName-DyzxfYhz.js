import{Q as e}from"./index-BLgexYwM.js";import{a as r}from"./directory-C0cAayhf.js";function a({id:m}){return e.jsx(e.Fragment,{children:r(m)})}export{a as E};
